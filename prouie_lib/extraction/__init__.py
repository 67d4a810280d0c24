"""Use a trained model on new text: any schema, grounded spans, sentence windows for long texts.

:mod:`.extractor` (load a model once, extract from lists of texts), :mod:`.schemas` (the schema asked for),
:mod:`.grounding` (offsets and alignment status of every span), :mod:`.windows` (sentence windows),
:mod:`.settings` (how a model is prompted), :mod:`.stage_choice` (which stage of a run), :mod:`.backends`
(transformers; vLLM when installed), :mod:`.inputs` (texts from files and stdin), :mod:`.html_page` (one
self-contained page of highlighted extractions). Importing this package loads no torch.
"""

from prouie_lib.extraction.extractor import Extractor, summarize
from prouie_lib.extraction.grounding import ALIGNMENTS, ground_structure
from prouie_lib.extraction.schemas import ExtractionSchema, dataset_schema, make_schema, schema_from_labels
from prouie_lib.extraction.stage_choice import choose_stage, final_stage

__all__ = ["ALIGNMENTS", "ExtractionSchema", "Extractor", "choose_stage", "dataset_schema", "final_stage",
           "ground_structure", "make_schema", "schema_from_labels", "summarize"]
