"""Keep a finished run (or one finished seed of a run over seeds) in benchmarks/results/, then check it.

    python scripts/archive_run.py runs/cpu-conll04-seeds/seed-42   # -> benchmarks/results/cpu-conll04-seeds/seed-42
    python scripts/archive_run.py runs/cpu-conll04-dev/seed-42 --dest benchmarks/results/cpu-conll04-dev/seed-42
    python scripts/archive_run.py --check benchmarks/results/cpu-conll04-seeds    # re-aggregate and re-score only

Archiving one seed also copies the run's top-level config.yaml, recomputes the aggregate report over every
archived seed (so seeds run in different sessions aggregate together) and re-scores every archived prediction
file on its own against gold rebuilt from the datasets; it exits 1 if any number disagrees
(prouie_lib.analysis.archive).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from prouie_lib import rundir
from prouie_lib.analysis.archive import aggregate_archive, archive_run, check_archive

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="run directory to archive (or, with --check, an archive)")
    parser.add_argument("--dest", help="archive folder (default: benchmarks/results/<run>[/seed-<k>])")
    parser.add_argument("--check", action="store_true", help="only re-aggregate and re-score an archive")
    args = parser.parse_args(argv)
    path = Path(args.path)
    if args.check:
        archive = path
    else:
        is_seed = path.name.startswith(rundir.SEED_PREFIX)
        dest = Path(args.dest) if args.dest else RESULTS / (f"{path.parent.name}/{path.name}" if is_seed else path.name)
        copied = archive_run(path, dest)
        print(f"archived {len(copied)} files to {dest}")
        archive = dest
        if is_seed:
            archive = dest.parent
            shutil.copy2(path.parent / rundir.RUN_CONFIG, archive / rundir.RUN_CONFIG)
    if rundir.seed_dirs(archive):
        print(f"aggregate of archived seeds {sorted(rundir.seed_dirs(archive))} (its report names any seed left out): "
              f"{aggregate_archive(archive)}")
    problems = check_archive(archive)
    for line in problems:
        print(line)
    print(f"re-scored {archive} on its own: " + ("all numbers agree" if not problems else f"{len(problems)} differ"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
