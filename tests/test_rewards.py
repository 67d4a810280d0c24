"""Reward library, structure level: SFR formula, baselines, registry (no format parser involved)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reward_strategies import gold_records, gold_units, structure, wrong_units

from prouie_lib.formats.base import ParseResult
from prouie_lib.rewards import (
    REWARDS,
    RewardResult,
    SFRConfig,
    StepwiseReward,
    get_reward,
    normalize_text,
    register_reward,
    task_units,
)
from prouie_lib.rewards.base import get_target_format
from prouie_lib.rewards.registry import BUILTIN_REWARDS
from prouie_lib.schema import TASK_FIELD, RecordError, argument_pairs, dedup_units, unit_key

SFR = get_reward("sfr")
CONFIGS = [SFRConfig(), SFRConfig(floor=-1.0, hallucination_penalty=0.3, label_penalty=0.2),
           SFRConfig(format_weight=0.0, normalize=False,
                     step_weights={"entity_type": 2.0, "argument_role": 3.0}),
           SFRConfig(duplicates="set", re_entity_types="on")]
SET_CONFIGS = [SFRConfig(duplicates="set"), SFRConfig(duplicates="set", floor=-1.0, hallucination_penalty=0.3),
               SFRConfig(duplicates="set", format_weight=0.0, normalize=False,
                         step_weights={"entity_type": 2.0, "argument_role": 3.0})]
NER_GOLD = {"id": "g1", "dataset": "t", "task": "NER", "split": "test",
            "text": "Barack Obama visited  Paris in May .",
            "labels": {"entity_types": ["person", "location"]},
            "entities": [{"text": "Barack Obama", "type": "person", "start": 0, "end": 12},
                         {"text": "Paris", "type": "location", "start": 22, "end": 27}],
            "relations": [], "events": []}


def with_units(record: dict, units: list) -> dict:
    return {"entities": [], "relations": [], "events": [], TASK_FIELD[record["task"]]: units}


def rendered(gold: dict) -> dict:
    """The gold structure as a format renders it (exact duplicate units, and an event's duplicate arguments,
    once)."""
    units = dedup_units(gold["task"], structure(gold)[TASK_FIELD[gold["task"]]])
    if gold["task"] == "EE":
        units = [{**ev, "arguments": [{"role": r, "text": t} for r, t in argument_pairs(ev)]} for ev in units]
    return with_units(gold, units)


def sfr_total(reward: StepwiseReward, units: list, gold: dict) -> float:
    return reward.score_structure(with_units(gold, units), gold).total


# ---------------------------------------------------------------- worked examples (formula by hand)

def test_ner_formula_by_hand():
    # span F1 = 2*2/(3+2) = 0.8 ; type F1 = 2*1/(3+2) = 0.4 → 0.1 + 0.3*0.8 + 0.6*0.4 = 0.58
    pred = [{"text": "barack   OBAMA", "type": "person"}, {"text": "Paris", "type": "person"},
            {"text": "May", "type": "location"}]
    result = SFR.score_structure(with_units(NER_GOLD, pred), NER_GOLD)
    assert result.components["f1_entity_span"] == pytest.approx(0.8)
    assert result.components["f1_entity_type"] == pytest.approx(0.4)
    assert result.total == pytest.approx(0.58)


def test_re_entity_type_step_follows_the_gold_and_the_format_not_the_prediction():
    # issue 12 item 7: a prediction cannot switch the type step off by leaving its types blank
    gold = {**NER_GOLD, "task": "RE", "entities": [], "relations": [
        {"head": {"text": "Barack Obama", "type": "person"}, "type": "live in",
         "tail": {"text": "Paris", "type": "location"}}]}
    untyped = [{"head": {"text": "Barack Obama", "type": ""}, "type": "live in", "tail": {"text": "Paris"}}]
    result = SFR.score_structure(with_units(gold, untyped), gold)
    assert result.components["f1_relation_entity_types"] == 0.0
    assert result.total == pytest.approx(0.8)  # 0.1 + 0.3 + 0.4 + 0.2*0
    assert get_reward("strict_f1").score_structure(with_units(gold, untyped), gold).total == 0.0
    # as text: "(A [] | live in | B [])" is malformed in the typed format → the floor
    text = "(Barack Obama [] | live in | Paris [])"
    assert SFR(text, gold, "streamlined").total == 0.0
    assert get_reward("strict_f1")(text, gold, "streamlined").total == 0.0
    # the notypes format never writes types: the step is inactive, its weight goes to "relation"
    result = SFR("(Barack Obama | live in | Paris)", gold, "streamlined-notypes")
    assert "f1_relation_entity_types" not in result.components and result.total == 1.0
    assert SFR.score_structure(with_units(gold, untyped), gold, fmt="streamlined-notypes").total == 1.0
    assert get_reward("strict_f1")("(Barack Obama | live in | Paris)", gold, "streamlined-notypes").total == 1.0
    # a gold without entity types (schema lists none, relations untyped): inactive whatever the format
    bare = {**gold, "labels": {"relation_types": ["live in"]},
            "relations": [{**gold["relations"][0], "head": {"text": "Barack Obama", "type": ""},
                           "tail": {"text": "Paris", "type": ""}}]}
    assert SFR.score_structure(with_units(bare, untyped), bare).total == 1.0
    typed_wrong = [{"head": {"text": "Barack Obama", "type": "location"}, "type": "live in",
                    "tail": {"text": "Paris", "type": "location"}}]
    result = SFR.score_structure(with_units(gold, typed_wrong), gold)
    assert result.components["f1_relation_entity_types"] == 0.0
    assert result.total == pytest.approx(0.8)
    off = StepwiseReward(SFRConfig(re_entity_types="off"))
    assert off.score_structure(with_units(gold, typed_wrong), gold).total == 1.0


def test_ee_arguments_only_count_inside_correctly_typed_events():
    gold = {**NER_GOLD, "task": "EE", "entities": [], "events": [
        {"type": "Attack", "trigger": {"text": "visited"},
         "arguments": [{"role": "Attacker", "text": "Barack Obama"}, {"role": "Place", "text": "Paris"}]}]}
    wrong_type = [{"type": "Travel", "trigger": {"text": "visited"},
                   "arguments": gold["events"][0]["arguments"]}]
    result = SFR.score_structure(with_units(gold, wrong_type), gold)
    assert result.components["f1_trigger"] == 1.0
    assert result.components["f1_event_type"] == 0.0
    assert result.components["f1_argument"] == 0.0 and result.components["f1_argument_role"] == 0.0
    assert result.total == pytest.approx(0.1 + 0.15)
    swapped_roles = [{"type": "Attack", "trigger": {"text": "visited"},
                      "arguments": [{"role": "Place", "text": "Barack Obama"},
                                    {"role": "Place", "text": "Paris"}]}]
    result = SFR.score_structure(with_units(gold, swapped_roles), gold)
    assert result.components["f1_argument"] == 1.0
    assert result.components["f1_argument_role"] == pytest.approx(0.5)
    assert result.total == pytest.approx(0.1 + 0.15 + 0.3 + 0.15 + 0.3 * 0.5)


def test_events_without_arguments_move_argument_weight_to_event_type():
    gold = {**NER_GOLD, "task": "EE", "entities": [],
            "events": [{"type": "Attack", "trigger": {"text": "visited"}, "arguments": []}]}
    wrong_type = [{"type": "Travel", "trigger": {"text": "visited"}, "arguments": []}]
    # argument steps are vacuous: their 0.45 follows event_type (F1 0), not a free 1.0
    assert sfr_total(SFR, wrong_type, gold) == pytest.approx(0.25)
    assert sfr_total(SFR, gold["events"], gold) == 1.0


def test_empty_gold_and_empty_prediction_is_perfect_but_extra_units_are_not():
    gold = {**NER_GOLD, "entities": []}
    assert sfr_total(SFR, [], gold) == 1.0
    assert sfr_total(SFR, [{"text": "Paris", "type": "location"}], gold) == pytest.approx(0.1)


def test_not_well_formed_gets_floor_but_reports_components():
    reward = StepwiseReward(SFRConfig(floor=-0.5))
    parsed = ParseResult(structure=with_units(NER_GOLD, NER_GOLD["entities"]), well_formed=False)
    result = reward.score_parsed(parsed, NER_GOLD)
    assert result.total == -0.5
    assert result.components["format"] == 0.0 and result.components["f1_entity_type"] == 1.0


def test_hallucination_and_label_penalties_are_counted_and_clipped():
    reward = StepwiseReward(SFRConfig(hallucination_penalty=0.05, label_penalty=0.1, floor=-1.0))
    pred = NER_GOLD["entities"] + [{"text": "London", "type": "location"}]
    parsed = ParseResult(structure=with_units(NER_GOLD, pred), well_formed=True, dropped_labels=2)
    result = reward.score_parsed(parsed, NER_GOLD)
    assert result.components["hallucinated_spans"] == 1.0 and result.components["dropped_labels"] == 2.0
    assert result.components["penalty"] == pytest.approx(0.25)
    f1 = 2 * 2 / 5
    assert result.total == pytest.approx(0.1 + 0.9 * f1 - 0.25)
    many = [{"text": f"nowhere{i}", "type": "person"} for i in range(100)]
    assert reward.score_structure(with_units(NER_GOLD, many), NER_GOLD).total == -1.0


def test_normalize_text():
    assert normalize_text("  New\t York \n") == "new york"
    assert normalize_text("STRASSE") == normalize_text("strasse")
    assert normalize_text(None) == ""


def test_config_validation_names_the_problem():
    with pytest.raises(ValueError, match="unknown step"):
        SFRConfig(step_weights={"entity_spam": 1.0})
    with pytest.raises(ValueError, match="format_weight"):
        SFRConfig(format_weight=-0.1)
    with pytest.raises(ValueError, match="floor"):
        SFRConfig(floor=0.5)
    with pytest.raises(ValueError, match="unknown option"):
        SFRConfig().replace({"colour": 1})
    custom = SFRConfig().replace({"format": 0.2, "entity_type": 1.2, "floor": -1.0})
    assert custom.format_weight == 0.2 and custom.step_weights["entity_type"] == 1.2 and custom.floor == -1.0
    fmt_w, steps = custom.task_weights("NER")
    assert fmt_w + sum(steps.values()) == pytest.approx(1.0)
    assert steps["entity_type"] == pytest.approx(1.2 / 1.7)


def test_malformed_structures_raise_record_errors_naming_the_field():
    with pytest.raises(RecordError, match=r"entities\[1\]\.type"):
        task_units({"entities": [{"text": "a", "type": "x"}, {"text": "b"}]}, "NER", where="pred")
    with pytest.raises(RecordError, match=r"events\[0\]\.arguments\[0\]\.role"):
        task_units({"events": [{"type": "A", "trigger": {"text": "t"}, "arguments": [{"text": "x"}]}]}, "EE")
    with pytest.raises(RecordError, match="task"):
        SFR.score_structure({"entities": []}, {**NER_GOLD, "task": "POS"})


def test_baselines_by_hand():
    half = with_units(NER_GOLD, NER_GOLD["entities"][:1])
    assert get_reward("exact_match").score_structure(half, NER_GOLD).total == 0.0
    assert get_reward("exact_match").score_structure(structure(NER_GOLD), NER_GOLD).total == 1.0
    assert get_reward("strict_f1").score_structure(half, NER_GOLD).total == pytest.approx(2 / 3)
    broken = ParseResult(structure=structure(NER_GOLD), well_formed=False)
    for name in ("exact_match", "strict_f1", "format"):
        assert get_reward(name).score_parsed(broken, NER_GOLD).total == 0.0
    assert get_reward("format").score_structure(half, NER_GOLD).total == 1.0


def test_na_relations_are_no_relations_as_in_the_evaluation():
    gold = {**NER_GOLD, "task": "RE", "entities": [], "relations": [
        {"head": {"text": "Barack Obama", "type": "person"}, "type": "NA",
         "tail": {"text": "Paris", "type": "location"}}]}
    assert sfr_total(SFR, [], gold) == 1.0
    assert sfr_total(SFR, [{**gold["relations"][0], "type": ""}], gold) == 1.0
    assert sfr_total(SFR, [{**gold["relations"][0], "type": "live in"}], gold) == pytest.approx(0.1)


def test_strict_f1_arguments_not_tied_to_trigger_like_the_evaluation():
    gold = {**NER_GOLD, "task": "EE", "entities": [], "events": [
        {"type": "Attack", "trigger": {"text": "visited"},
         "arguments": [{"role": "Place", "text": "Paris"}]}]}
    pred = [{"type": "Attack", "trigger": {"text": "May"},
             "arguments": [{"role": "Place", "text": "Paris"}]}]
    # event: 0 TP of 1/1 ; argument (Attack, Place, paris) matches → 2*1/(2+2);
    # the SFR gives no argument credit (wrong event)
    assert get_reward("strict_f1").score_structure(with_units(gold, pred), gold).total == pytest.approx(0.5)
    assert SFR.score_structure(with_units(gold, pred), gold).components["f1_argument_role"] == 0.0


def test_strict_f1_pools_events_and_arguments():
    gold = {**NER_GOLD, "task": "EE", "entities": [], "events": [
        {"type": "Attack", "trigger": {"text": "visited"},
         "arguments": [{"role": "Place", "text": "Paris"}]}]}
    pred = [{"type": "Attack", "trigger": {"text": "visited"},
             "arguments": [{"role": "Attacker", "text": "Paris"}]}]
    # events: 1 TP of 1/1 ; arguments: 0 TP of 1/1 → 2*1/(2+2)
    assert get_reward("strict_f1").score_structure(with_units(gold, pred), gold).total == pytest.approx(0.5)


# ---------------------------------------------------------------- registry

def test_registry_has_builtins_and_user_rewards_from_main():
    assert set(BUILTIN_REWARDS) <= set(REWARDS)
    namespace = {"__name__": "__main__", "RewardResult": RewardResult, "register_reward": register_reward}
    cell = ("@register_reward('test_count_entities')\n"
            "def count_entities(parsed, gold):\n"
            "    '''Entities found.'''\n"
            "    return RewardResult(float(len(parsed.structure['entities'])), {'n': 1.0})\n")
    try:
        exec(compile(cell, "<notebook cell>", "exec"), namespace)
        exec(compile(cell, "<notebook cell>", "exec"), namespace)  # re-running the cell replaces it
        reward = get_reward("test_count_entities")
        assert reward.fn.__module__ == "__main__" and reward.description == "Entities found."
        assert reward.score_structure(structure(NER_GOLD), NER_GOLD).total == 2.0

        with pytest.raises(ValueError, match="already registered"):
            register_reward("test_count_entities")(lambda parsed, gold: 0.0)
        with pytest.raises(ValueError, match="already registered"):
            register_reward("sfr")(StepwiseReward())
        register_reward("test_count_entities", overwrite=True)(lambda parsed, gold: 0.5)
        assert get_reward("test_count_entities").score_structure(structure(NER_GOLD), NER_GOLD).total == 0.5
    finally:
        REWARDS.pop("test_count_entities", None)


def test_get_reward_options_and_errors():
    heavy = get_reward("sfr", format=0.0, entity_span=0.0)
    half = with_units(NER_GOLD, NER_GOLD["entities"][:1])
    assert heavy.score_structure(half, NER_GOLD).total == pytest.approx(2 / 3)  # only span+type F1 counts
    assert get_reward("sfr") is SFR  # options build a copy
    with pytest.raises(KeyError, match="unknown reward"):
        get_reward("nope")
    with pytest.raises(ValueError, match="unknown option"):
        get_reward("exact_match", floor=1)
    with pytest.raises(ValueError, match="takes no options"):
        get_reward("format", floor=1)
    bad = get_reward(lambda parsed, gold: "high")
    with pytest.raises(TypeError, match="returned str"):
        bad.score_structure(half, NER_GOLD)


# ---------------------------------------------------------------- properties (hypothesis)

@settings(max_examples=150, deadline=None)
@given(gold=gold_records())
def test_perfect_prediction_gets_the_maximum(gold):
    perfect = rendered(gold)  # what a format writes: an exact duplicate unit once
    for config in CONFIGS:
        reward = StepwiseReward(config)
        assert reward.score_structure(perfect, gold).total == pytest.approx(
            config.max_reward(gold["task"]), abs=1e-12)
    assert get_reward("exact_match").score_structure(perfect, gold).total == 1.0
    assert get_reward("strict_f1").score_structure(perfect, gold).total == 1.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), gold=gold_records())
def test_reward_stays_in_documented_range(data, gold):
    units = data.draw(st.lists(wrong_units(gold), max_size=6)) + data.draw(
        st.lists(st.sampled_from(gold_units(gold) or [None]), max_size=3))
    units = [u for u in units if u is not None]
    well_formed = data.draw(st.booleans())
    parsed = ParseResult(structure=with_units(gold, units), well_formed=well_formed,
                         dropped_labels=data.draw(st.integers(0, 5)))
    for config in CONFIGS:
        result = StepwiseReward(config).score_parsed(parsed, gold)
        assert config.floor <= result.total <= config.max_reward(gold["task"])
        if not well_formed:
            assert result.total == config.floor
    for name in ("exact_match", "strict_f1", "format"):
        assert 0.0 <= get_reward(name).score_parsed(parsed, gold).total <= 1.0


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), gold=gold_records(allow_empty=False))
def test_adding_a_correct_unit_never_lowers_the_reward(data, gold):
    golds = gold_units(gold)
    kept = data.draw(st.lists(st.sampled_from(golds), max_size=len(golds)))
    pred = copy.deepcopy(kept) + data.draw(st.lists(wrong_units(gold), max_size=4))
    added = data.draw(st.sampled_from(golds))
    for config in SET_CONFIGS:  # set semantics (a multiset counts a repeated gold unit as a false positive)
        reward = StepwiseReward(config)
        before = sfr_total(reward, pred, gold)
        after = sfr_total(reward, pred + [copy.deepcopy(added)], gold)
        assert after >= before - 1e-12
    # strict_f1 counts copies: only a unit whose strict key is new (NER, RE: the unit key; EE pools coarser keys)
    if gold["task"] != "EE" and not any(unit_key(gold["task"], u) == unit_key(gold["task"], added) for u in pred):
        assert get_reward("strict_f1").score_structure(with_units(gold, pred + [added]), gold).total >= \
            get_reward("strict_f1").score_structure(with_units(gold, pred), gold).total - 1e-12


@settings(max_examples=150, deadline=None)
@given(data=st.data(), gold=gold_records("EE", allow_empty=False))
def test_adding_a_correct_argument_to_a_correct_event_never_lowers_the_reward(data, gold):
    event = data.draw(st.sampled_from(gold["events"]))
    assume(event["arguments"])
    pred_event = {**copy.deepcopy(event), "arguments": data.draw(
        st.lists(st.sampled_from(event["arguments"]), max_size=len(event["arguments"])))}
    reward = StepwiseReward(SFRConfig(duplicates="set"))  # under the default multiset a repeat costs (tested below)
    before = sfr_total(reward, [pred_event], gold)
    pred_event["arguments"] = pred_event["arguments"] + [data.draw(st.sampled_from(event["arguments"]))]
    assert sfr_total(reward, [pred_event], gold) >= before - 1e-12


@settings(max_examples=150, deadline=None)
@given(data=st.data(), gold=gold_records(allow_empty=False))
def test_right_span_with_wrong_type_beats_wrong_span(data, gold):
    unit = copy.deepcopy(data.draw(st.sampled_from(gold_units(gold))))
    task = gold["task"]
    right_span, wrong_span = copy.deepcopy(unit), copy.deepcopy(unit)
    if task == "NER":
        right_span["type"] = "not-a-type"
        wrong_span["text"] = "zzz"
    elif task == "RE":
        right_span["type"] = "not-a-relation"
        wrong_span["tail"]["text"] = "zzz"
    else:
        right_span["type"] = "not-an-event"
        wrong_span["trigger"]["text"] = "zzz"
    assert sfr_total(SFR, [right_span], gold) > sfr_total(SFR, [wrong_span], gold)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), gold=gold_records("EE", allow_empty=False))
def test_right_argument_with_wrong_role_beats_wrong_argument(data, gold):
    event = data.draw(st.sampled_from(rendered(gold)["events"]))  # an event as the formats write it
    event = {**event, "arguments": [{"role": r, "text": t} for r, t in argument_pairs(event)]}
    assume(event["arguments"])
    right_span, wrong_span = copy.deepcopy(event), copy.deepcopy(event)
    right_span["arguments"][0]["role"] = "not-a-role"
    wrong_span["arguments"][0]["text"] = "zzz"
    assert sfr_total(SFR, [right_span], gold) > sfr_total(SFR, [wrong_span], gold)


# ---------------------------------------------------------------- issue 12: truncation, repeats, off-schema

def test_truncated_completion_gets_partial_credit_with_a_format_penalty():
    # "(person: Barack Obama)(location: Par" — cut at the generation limit after one complete unit.
    # partial: span F1 = 2·1/(1+2) = 2/3, type F1 = 2/3 → 0.3·2/3 + 0.6·2/3 − 0.1 (truncation) = 0.5
    cut = "(person: Barack Obama)(location: Par"
    result = SFR(cut, NER_GOLD, "streamlined")
    assert result.total == pytest.approx(0.5) and result.components["truncated"] == 1.0
    assert result.components["format"] == 0.0
    # the same unit written out in full scores more (0.1 + 0.9·2/3 = 0.7), "None" less (0.1)
    assert SFR("(person: Barack Obama)", NER_GOLD, "streamlined").total == pytest.approx(0.7)
    assert SFR("None", NER_GOLD, "streamlined").total == pytest.approx(0.1)
    # complete format: the half-read string is left out
    cut_json = '{"person": ["Barack Obama"], "location": ["Par'
    assert SFR(cut_json, NER_GOLD, "complete").total == pytest.approx(0.5)
    # configurable: the floor instead, or another penalty
    assert get_reward("sfr", truncated="floor")(cut, NER_GOLD, "streamlined").total == 0.0
    assert get_reward("sfr", truncation_penalty=0.0)(cut, NER_GOLD, "streamlined").total == pytest.approx(0.6)
    # a cut with another defect, or with no unit before the cut, gets the floor
    assert SFR("(person Barack Obama)(location: Par", NER_GOLD, "streamlined").total == 0.0
    assert SFR("(location: Par", NER_GOLD, "streamlined").total == 0.0
    with pytest.raises(ValueError, match="truncated"):
        SFRConfig(truncated="mask")


def test_repeated_units_cost_precision_by_default():
    # gold {Barack Obama/person, Paris/location}; prediction repeats Paris 3 times:
    # multiset span F1 = 2·2/(4+2) = 2/3, type F1 = 2/3 → 0.1 + 0.9·2/3 = 0.7; set semantics: 1.0
    pred = NER_GOLD["entities"] + [NER_GOLD["entities"][1]] * 2
    assert sfr_total(SFR, pred, NER_GOLD) == pytest.approx(0.7)
    assert sfr_total(StepwiseReward(SFRConfig(duplicates="set")), pred, NER_GOLD) == 1.0
    assert get_reward("strict_f1").score_structure(with_units(NER_GOLD, pred), NER_GOLD).total == pytest.approx(2 / 3)
    assert get_reward("exact_match").score_structure(with_units(NER_GOLD, pred), NER_GOLD).total == 0.0
    # a gold that lists a unit twice is rendered once: the rendered gold is still perfect
    doubled = {**NER_GOLD, "entities": NER_GOLD["entities"] + [NER_GOLD["entities"][1]]}
    assert SFR(get_target_format("streamlined").render(doubled), doubled, "streamlined").total == 1.0


def test_off_schema_labels_count_against_the_reward():
    # issue 12 item 1 in the reward: an invented label is a false positive, a case-changed one is the label
    text = "(person: Barack Obama)(location: Paris)(city: May)"
    # span F1 = 2·2/(3+2) = 0.8, type F1 = 0.8 → 0.1 + 0.9·0.8 = 0.82
    assert SFR(text, NER_GOLD, "streamlined").total == pytest.approx(0.82)
    assert SFR("(PERSON: Barack Obama)(Location: Paris)", NER_GOLD, "streamlined").total == 1.0
    assert get_reward("strict_f1")(text, NER_GOLD, "streamlined").total == pytest.approx(0.8)
    result = get_reward("sfr", label_penalty=0.05)(text, NER_GOLD, "streamlined")
    assert result.components["dropped_labels"] == 1.0 and result.total == pytest.approx(0.77)
