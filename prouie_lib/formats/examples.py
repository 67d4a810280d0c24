"""Example completions for help texts (`prouie eval --help`, `prouie reward --help`)."""

# One completion per format (a CoNLL04 sentence with one `live in` relation); tests/test_format_examples.py checks
# that each parses back to the same relation.
FORMAT_EXAMPLES = """prediction lines: {"id": ..., "completion": ..., "format": ...}; a completion in each format:
  complete             {"organization based in": [], "located in": [], "live in": [{"head": "Reagan",
                       "head_type": "person", "tail": "America", "tail_type": "location"}], "work for": [],
                       "kill": []}
  complete-present     {"live in": [{"head": "Reagan", "head_type": "person", "tail": "America",
                       "tail_type": "location"}]}
  streamlined          (Reagan [person] | live in | America [location])
  streamlined-notypes  (Reagan | live in | America)
NER:  (person: Nadim Ladki)(location: Paris)     EE:  (attack: bombed | attacker: rebels | place: Kabul)
nothing to extract:  None (streamlined) or every list empty (complete) or {} (complete-present)"""
