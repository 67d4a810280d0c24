"""Generate the kit's bundled sample dataset (``data/sample/{train,dev,test}.jsonl``).

Unified records (see ``prouie_lib/schema.py``) for three tasks under one small label schema each:
``Sample-NER``, ``Sample-RE`` and ``Sample-EE``. Sentences come from hand-written templates with
slots, alternatives and marked event triggers, filled from name pools. Train and dev use template
set "A" and pool half "A"; test uses the held-out template set "B" and pool half "B", so neither a
test template nor any test entity/argument string occurs in train.

Template markup: ``{kind}`` / ``{kindN}`` a slot filled from the pool of ``kind`` (the same slot name
twice gives the same filler), ``(x|y|z)`` a choice of literal text, ``[E1:x|y]`` the trigger of
event ``E1`` (a choice of words). Pool entries are strings or ``(prefix, name)`` pairs whose prefix
(an article, say) is written but kept out of the span.

Deterministic and standard library only: ``python data/make_sample.py [--out DIR] [--seed N]``
writes byte-identical files for the same seed.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SEED = 20240601
DEFAULT_OUT = Path(__file__).resolve().parent / "sample"
SPLITS: tuple[str, ...] = ("train", "dev", "test")
TASKS: tuple[str, ...] = ("NER", "RE", "EE")
# Records per task in each split; dev shares templates and pools with train, test holds both out.
RECORDS_PER_TASK: dict[str, int] = {"train": 160, "dev": 20, "test": 40}
SPLIT_POOL: dict[str, str] = {"train": "A", "dev": "A", "test": "B"}
ZERO_UNIT_FRACTION = 0.05
MAX_DRAWS_PER_RECORD = 200

ENTITY_TYPES: list[str] = ["person", "organization", "location", "drug", "disease"]
RELATION_TYPES: list[str] = ["work for", "located in", "born in", "treats", "founded by"]
EVENT_TYPES: dict[str, list[str]] = {
    "acquisition": ["buyer", "target", "price"],
    "attack": ["attacker", "target", "place"],
    "approval": ["agency", "drug", "date"],
    "election": ["winner", "office", "place"],
}
# Allowed (head type, tail type) pairs of each relation type.
RELATION_SIGNATURES: dict[str, list[tuple[str, str]]] = {
    "work for": [("person", "organization")],
    "located in": [("organization", "location"), ("location", "location")],
    "born in": [("person", "location")],
    "treats": [("drug", "disease")],
    "founded by": [("organization", "person")],
}


def dataset_name(task: str) -> str:
    return f"Sample-{task}"


def labels_for(task: str) -> dict[str, Any]:
    """The label schema a record of ``task`` offers the model (only the keys that apply)."""
    if task == "NER":
        return {"entity_types": list(ENTITY_TYPES)}
    if task == "RE":
        return {"entity_types": list(ENTITY_TYPES), "relation_types": list(RELATION_TYPES)}
    if task == "EE":
        return {"event_types": {name: list(roles) for name, roles in EVENT_TYPES.items()}}
    raise ValueError(f"unknown task {task!r}")


def unit_count(record: dict[str, Any]) -> int:
    """Units a record asks the model to extract: entities (NER), relations (RE) or events (EE)."""
    return len(record[{"NER": "entities", "RE": "relations", "EE": "events"}[record["task"]]])


# --------------------------------------------------------------------------------------------
# Filler pools: kind -> {"A": train/dev half, "B": held-out test half}
# --------------------------------------------------------------------------------------------

Filler = str | tuple[str, str]
Pool = list[Filler] | Callable[[random.Random], Filler]

FIRST_NAMES = {
    "A": ["Maya", "Daniel", "Priya", "Kwame", "Elena", "Tomas", "Aiko", "Samuel", "Leila", "Marco",
          "Ingrid", "Rahul", "Chloe", "Omar", "Sofia", "Jonas", "Amara", "Victor", "Hana", "Lucas",
          "Nadia", "Felix", "Zara", "Mateo", "Yuki", "Grace", "Hugo", "Ananya", "Tariq", "Isabel",
          "Emeka", "Clara"],
    "B": ["Farida", "Bjorn", "Thandiwe", "Rafael", "Mei", "Anders", "Lucia", "Kofi", "Yasmin", "Pavel",
          "Ines", "Dev", "Astrid", "Joaquin", "Noor"],
}
LAST_NAMES = {
    "A": ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Brennan", "Kowalski", "Mensah",
          "Castillo", "Varga", "Iyer", "Novak", "Sato", "Whitfield", "Ferreira", "Adeyemi", "Larsen",
          "Petrov", "Ramirez", "Osei", "Kaplan", "Duarte", "Nakamura", "Fischer", "Abara", "Holm",
          "Chandra", "Reyes", "Bauer", "Quinn"],
    "B": ["Achterberg", "Mwangi", "Szabo", "Rahimi", "Ellingsen", "Cardoso", "Obuya", "Lindahl",
          "Marchetti", "Yilmaz", "Kimura", "Delacroix", "Thornton", "Vasquez", "Oyelaran"],
}
# (city, country) pairs; the country halves are disjoint too.
PLACES = {
    "A": [("Lyon", "France"), ("Toulouse", "France"), ("Osaka", "Japan"), ("Sapporo", "Japan"),
          ("Porto", "Portugal"), ("Lisbon", "Portugal"), ("Monterrey", "Mexico"),
          ("Guadalajara", "Mexico"), ("Lagos", "Nigeria"), ("Ibadan", "Nigeria"), ("Pune", "India"),
          ("Chennai", "India"), ("Curitiba", "Brazil"), ("Recife", "Brazil"), ("Leipzig", "Germany"),
          ("Hamburg", "Germany"), ("Gothenburg", "Sweden"), ("Malmo", "Sweden"), ("Valencia", "Spain"),
          ("Bilbao", "Spain"), ("Calgary", "Canada"), ("Halifax", "Canada"), ("Busan", "South Korea"),
          ("Daegu", "South Korea"), ("Mombasa", "Kenya"), ("Nairobi", "Kenya"), ("Rosario", "Argentina"),
          ("Cordoba", "Argentina"), ("Perth", "Australia"), ("Adelaide", "Australia"),
          ("Krakow", "Poland"), ("Gdansk", "Poland")],
    "B": [("Tbilisi", "Georgia"), ("Batumi", "Georgia"), ("Ghent", "Belgium"), ("Antwerp", "Belgium"),
          ("Medellin", "Colombia"), ("Cali", "Colombia"), ("Izmir", "Turkey"), ("Ankara", "Turkey"),
          ("Da Nang", "Vietnam"), ("Hanoi", "Vietnam"), ("Tampere", "Finland"), ("Oulu", "Finland"),
          ("Cluj-Napoca", "Romania"), ("Timisoara", "Romania"), ("Kumasi", "Ghana"), ("Accra", "Ghana")],
}


def _person(half: str) -> Callable[[random.Random], Filler]:
    return lambda rng: f"{rng.choice(FIRST_NAMES[half])} {rng.choice(LAST_NAMES[half])}"


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
YEARS = {"A": list(range(2012, 2020)), "B": list(range(2021, 2025))}


def _full_date(half: str) -> Callable[[random.Random], Filler]:
    return lambda rng: f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.choice(YEARS[half])}"


def _month_year(half: str) -> Callable[[random.Random], Filler]:
    return lambda rng: f"{rng.choice(MONTHS)} {rng.choice(YEARS[half])}"


def _money(millions: list[int], billions: list[str]) -> list[Filler]:
    return [f"${n} million" for n in millions] + [f"${b} billion" for b in billions]


POOLS: dict[str, dict[str, Pool]] = {
    "per": {"A": _person("A"), "B": _person("B")},
    "company": {
        "A": ["Veltrix Systems", "Norhaven Bank", "Kestrel Logistics", "Brightwater Energy", "Solvane Foods",
              "Arcadia Robotics", "Pellion Networks", "Quorra Software", "Halden Motors", "Tessaro Retail",
              "Bluefin Analytics", "Corvane Insurance", "Marlow Steel", "Zephyr Airlines", "Lumora Labs",
              "Granite Peak Capital", "Redfern Media", "Orvell Telecom", "Calloway Shipping",
              "Nimbus Cloudworks", "Vantor Semiconductors", "Helix Freight", "Silverline Mobile"],
        "B": ["Draymont Holdings", "Quillfeather Press", "Ravencrest Mining", "Tollund Power",
              "Yarrowby Foods", "Castellan Data", "Wexbridge Motors", "Fenmoor Chemicals",
              "Ironleaf Outdoor", "Sablewood Games", "Oxhollow Bank", "Trevane Aerospace"],
    },
    "pharma": {
        "A": ["Medivance", "Corith Pharma", "Alventis Therapeutics", "Nuvelle Biosciences", "Parexa Health",
              "Osmira Pharmaceuticals", "Tavora Bio", "Helvion Labs", "Kyrene Therapeutics",
              "Brava Genomics"],
        "B": ["Zentaro Pharma", "Quelis Biotherapeutics", "Morvaine Health", "Ostrel Biotech",
              "Vantiq Pharmaceuticals", "Syrenne Bio"],
    },
    "uni": {
        "A": ["Halvard Institute of Technology", "Northgate University", "Meridian Cancer Research Center",
              "Ashford College of Medicine", "Delmont Marine Laboratory", "Kingsreach University",
              "Thornbury Institute for Climate Studies", "Eastvale Polytechnic",
              "Carrow Neuroscience Institute", "Linden Observatory"],
        "B": ["Westmarch University", "Ravensholt Institute of Physics", "Bellhaven Genome Center",
              "Corrigan School of Public Health", "Ashgrove Polytechnic",
              "Tallis Institute for Ocean Science"],
    },
    "hospital": {
        "A": ["St. Brennan's Hospital", "Riverside General Hospital", "Maple Grove Medical Center",
              "Larchmont Children's Hospital", "Northfield Cardiac Clinic", "Whitcombe Memorial Hospital"],
        "B": ["Elmstead University Hospital", "Saint Aurelia Medical Center", "Brookhollow Clinic",
              "Pinecrest Regional Hospital"],
    },
    "drug": {
        "A": ["Zelvora", "Trimaxin", "Cardiflex", "Nexolide", "Virastat", "Ombrelin", "Fenlora", "Dartexa",
              "Lumivex", "Pravocort", "Sulnavir", "Ketrazol", "Brivanta", "Glucoral", "Neuroxen", "Pelmira",
              "Altrevan", "Corvexa", "Imunzia", "Tazorel"],
        "B": ["Quintaril", "Vexoprin", "Halorexa", "Mirtavane", "Ostefin", "Rubicort", "Sybrelta", "Xantolin",
              "Yervamid", "Kaprizen"],
    },
    "dis": {
        "A": ["type 2 diabetes", "asthma", "hypertension", "rheumatoid arthritis", "malaria", "tuberculosis",
              "migraine", "psoriasis", "Parkinson's disease", "chronic kidney disease", "hepatitis C",
              "epilepsy", "lung cancer", "heart failure", "major depression", "osteoporosis",
              "cystic fibrosis", "Crohn's disease", "sickle cell disease", "influenza"],
        "B": ["multiple sclerosis", "lupus", "dengue fever", "glaucoma", "pancreatic cancer",
              "atrial fibrillation", "celiac disease", "eczema", "Alzheimer's disease", "cholera"],
    },
    "agency": {
        "A": [("the ", "FDA"), ("the ", "European Medicines Agency"), ("", "Health Canada"), ("the ", "PMDA"),
              ("the ", "National Medical Products Administration")],
        "B": [("the ", "MHRA"), ("", "Swissmedic"), ("the ", "Therapeutic Goods Administration"),
              ("", "ANVISA"), ("the ", "Saudi Food and Drug Authority")],
    },
    "attacker": {
        "A": ["rebels", "gunmen", "militants", "insurgents", "armed men", "separatist fighters", "pirates",
              ("the ", "Red Dawn Front"), ("the ", "Northern Liberation Army")],
        "B": ["masked attackers", "guerrillas", "bandits", "unidentified assailants",
              ("the ", "Eastern Resistance Brigade"), ("the ", "Crimson Hand")],
    },
    "tgt": {
        "A": [("a ", "police station"), ("an ", "army convoy"), ("a ", "fuel depot"),
              ("the ", "central market"), ("a ", "power plant"), ("a ", "military base"), ("a ", "hotel"),
              ("a ", "bank branch"), ("the ", "presidential palace"), ("a ", "train station"), ("a ", "village school")],
        "B": [("a ", "border checkpoint"), ("an ", "oil pipeline"), ("a ", "refugee camp"),
              ("the ", "city hall"), ("a ", "naval base"), ("a ", "bus station"), ("a ", "customs office")],
    },
    "money": {
        "A": _money([15, 40, 85, 120, 250, 310, 460, 720, 900], ["1.2", "2.5", "3.8", "4.1", "6.7", "12"]),
        "B": _money([22, 57, 95, 140, 380, 640, 815], ["1.9", "2.3", "5.5", "8.2", "14"]),
    },
    "date": {"A": _full_date("A"), "B": _full_date("B")},
    "monthyear": {"A": _month_year("A"), "B": _month_year("B")},
    "cityoffice": {"A": ["mayor", "deputy mayor", "city council chair"],
                   "B": ["lord mayor", "council speaker", "borough president"]},
    "natoffice": {"A": ["president", "senator", "party leader"],
                  "B": ["prime minister", "chancellor", "premier"]},
}
PLACE_KINDS = ("city", "country")
# Slot kinds that are entity mentions (NER/RE templates use only these), with their entity type.
ENTITY_KIND_TYPES: dict[str, str] = {
    "per": "person", "company": "organization", "pharma": "organization", "uni": "organization",
    "hospital": "organization", "city": "location", "country": "location", "drug": "drug", "dis": "disease",
}


# --------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Template:
    """One sentence pattern; ``relations`` name slots, ``events`` map E-ids to (type, {role: slot})."""

    task: str
    text: str
    relations: tuple[tuple[str, str, str], ...] = ()
    events: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    id: str = ""


TOKEN_RE = re.compile(r"\{(?P<slot>[a-z]+\d*)\}|\((?P<alts>[^()]*)\)|\[(?P<event>E\d+):(?P<trigger>[^\]]+)\]")


def _ner(text: str) -> Template:
    return Template("NER", text)


def _re(text: str, *relations: tuple[str, str, str]) -> Template:
    return Template("RE", text, tuple(relations))


def _ee(text: str, **events: tuple[str, dict[str, str]]) -> Template:
    return Template("EE", text, events=events)


NER_A = [
    _ner("{per} joined {company} as chief financial officer (last month|in the spring|after a long search)."),
    _ner("Shares of {company} rose sharply after the firm opened a new office in {city}."),
    _ner("Researchers at {uni} reported that {drug} reduced symptoms of {dis} in a small trial."),
    _ner("{per}, a virologist at {uni}, has spent a decade studying {dis} in {country}."),
    _ner("Doctors at {hospital} in {city} began treating patients with {drug} (this week|last month)."),
    _ner("The (clinical trial|late-stage study) of {drug} for {dis} enrolled nearly four hundred adults."),
    _ner("{company} and {company2} announced a joint venture focused on (battery recycling|cargo drones)."),
    _ner("{per} was appointed (chief executive|chairman|head of research) of {pharma} on Monday."),
    _ner("Floods in {city} forced {company} to close two of its warehouses."),
    _ner("A study led by {per} found that {dis} rates doubled among farm workers in {country}."),
    _ner("{pharma} said its experimental drug {drug} failed to slow {dis} in older patients."),
    _ner("Speaking in {city}, {per} urged lawmakers to fund more research on {dis}."),
    _ner("The (museum|science center) in {city} will host an exhibition on the history of medicine."),
    _ner("{per} and {per2} co-authored the report on ocean warming published by {uni}."),
    _ner("Patients with {dis} who took {drug} needed fewer hospital visits, according to {hospital}."),
    _ner("{company} plans to hire two hundred engineers in {city} and {city2} next year."),
    _ner("Regulators in {country} are reviewing whether {drug} can be sold without a prescription."),
    _ner("{per}, who grew up in {city}, now runs the genomics lab at {uni}."),
    _ner("Investors cheered as {company} reported (record quarterly profits|a surprise jump in sales)."),
    _ner("Health officials in {country} confirmed three new cases of {dis} on (Friday|Tuesday)."),
    _ner("Astronomers at {uni} detected a faint radio signal from a distant galaxy."),
    _ner("{per} said {pharma} would expand production of {drug} at its plant near {city}."),
    _ner("After years of delays, {company} finally opened its new headquarters in {city}."),
    _ner("A combination of {drug} and {drug2} showed promise against {dis} in mice."),
    _ner("{per} resigned from the board of {company}, citing personal reasons."),
    _ner("Farmers in {country} say the drought has cut their (wheat|maize|rice) harvest by half."),
    _ner("The conference in {city} brought together experts on {dis} from {uni} and {hospital}."),
    _ner("{per} (told reporters|said in an interview) that {company} has no plans to leave {country}."),
    _ner("Early data suggest that {drug} may also lower the risk of {dis} in adults."),
    _ner("{per}, the coach of the national team, praised the young players after the match."),
    _ner("{per} of {hospital} warned that {dis} is often diagnosed too late in {city}."),
    # no entities
    _ner("(The committee|The council|The panel) will meet again (after the holidays|next month|in the autumn)"
         " to review the (budget|proposal|new plan)."),
    _ner("Scientists still do not (fully understand|know) why some patients recover (faster|sooner)"
         " than (others|their peers)."),
    _ner("Prices for fresh (vegetables|fruit|fish) climbed again this week as heavy rain hit the region."),
]
NER_B = [
    _ner("Engineers from {company} and {uni} unveiled a cheaper way to store solar power."),
    _ner("{per} spent three years in {city} studying how {dis} spreads among children."),
    _ner("According to {per}, {pharma} will ask regulators to approve {drug} by the end of the year."),
    _ner("Hospitals across {country} reported a shortage of {drug} during the winter."),
    _ner("{per} left {company} to start a small biotech firm in {city}."),
    _ner("Nurses at {hospital} say cases of {dis} have risen steadily since the summer."),
    _ner("The mayor of {city} met executives from {company} to discuss new bus routes."),
    _ner("In a letter to shareholders, {per} defended the decision to sell the chemicals unit."),
    _ner("Volunteers from {country} helped researchers at {uni} count migrating birds."),
    _ner("Taking {drug} with food appears to ease its side effects, {per} wrote."),
    _ner("{per} and {per2} will lead the new center for {dis} research at {hospital}."),
    _ner("{company} moved its regional office from {city} to {city2} to cut costs."),
    # no entities
    _ner("Heavy (snow|fog) closed several mountain roads and delayed (deliveries|trains) for (days|hours)."),
]

RE_A = [
    _re("{per} works as a data scientist at {company} in {city}.",
        ("per", "work for", "company"), ("company", "located in", "city")),
    _re("{per}, a senior researcher at {uni}, was born in {city}.",
        ("per", "work for", "uni"), ("per", "born in", "city")),
    _re("{company} was founded by {per} in a small garage in {city}.", ("company", "founded by", "per")),
    _re("Doctors often prescribe {drug} to treat {dis} in (adults|older patients).",
        ("drug", "treats", "dis")),
    _re("{uni} is located in {city}, {country}.",
        ("uni", "located in", "city"), ("city", "located in", "country")),
    _re("Born in {city}, {per} later joined {pharma} as a chemist.",
        ("per", "born in", "city"), ("per", "work for", "pharma")),
    _re("{drug}, developed by {pharma}, is approved for {dis} and {dis2}.",
        ("drug", "treats", "dis"), ("drug", "treats", "dis2")),
    _re("{per} and {per2} founded {company} in (2009|2014|2017) with money from friends.",
        ("company", "founded by", "per"), ("company", "founded by", "per2")),
    _re("{hospital}, in the center of {city}, employs {per} as its chief surgeon.",
        ("hospital", "located in", "city"), ("per", "work for", "hospital")),
    _re("{per}, an economist at {company}, grew up in {city}.", ("per", "work for", "company")),
    _re("The headquarters of {company} are in {city}, close to the old harbor.",
        ("company", "located in", "city")),
    _re("{per} was born in {city} and studied chemistry in {city2}.", ("per", "born in", "city")),
    _re("{drug} helps control {dis}, say doctors at {hospital}.", ("drug", "treats", "dis")),
    _re("{company}, which {per} founded in 1998, now employs {per2} as its chief executive.",
        ("company", "founded by", "per"), ("per2", "work for", "company")),
    _re("{per} has taught physics at {uni} since (2011|2015|2019).", ("per", "work for", "uni")),
    _re("{pharma}, a drugmaker based in {city}, sells {drug} for {dis}.",
        ("pharma", "located in", "city"), ("drug", "treats", "dis")),
    _re("A native of {city}, {per} now leads the sales team at {company}.",
        ("per", "born in", "city"), ("per", "work for", "company")),
    _re("{per} and {per2} met while working together at {uni} in {city}.",
        ("per", "work for", "uni"), ("per2", "work for", "uni"), ("uni", "located in", "city")),
    _re("{city} is home to {company}, a maker of electric scooters founded by {per}.",
        ("company", "located in", "city"), ("company", "founded by", "per")),
    _re("{dis} can now be treated with {drug}, a cheaper alternative to {drug2}.",
        ("drug", "treats", "dis"), ("drug2", "treats", "dis")),
    _re("{per}, (a spokesperson|a spokeswoman|a spokesman) for {pharma}, declined to comment.",
        ("per", "work for", "pharma")),
    _re("{per}, who was born in {country}, became a professor at {uni}.",
        ("per", "born in", "country"), ("per", "work for", "uni")),
    _re("{company} opened its first factory in {city}, {country}, last year.",
        ("company", "located in", "city"), ("city", "located in", "country")),
    _re("Clinicians at {hospital} found that {drug} eased {dis} in most patients.",
        ("drug", "treats", "dis")),
    _re("{per}, founder of {company}, was born in {city} and still lives there.",
        ("company", "founded by", "per"), ("per", "born in", "city")),
    _re("Most engineers at {company} work on its campus in {city}.", ("company", "located in", "city")),
    _re("{per} is the chief scientist of {company}, which was founded by {per2}.",
        ("per", "work for", "company"), ("company", "founded by", "per2")),
    _re("{uni} in {city} hired {per} to run its new vaccine program.",
        ("uni", "located in", "city"), ("per", "work for", "uni")),
    _re("{per} grew up in {city}, but {per2} was born in {city2}.", ("per2", "born in", "city2")),
    _re("{drug} and {drug2} are both prescribed for {dis}.",
        ("drug", "treats", "dis"), ("drug2", "treats", "dis")),
    _re("{per}, born in {city}, founded {company}, which is based in {city2}.",
        ("per", "born in", "city"), ("company", "founded by", "per"), ("company", "located in", "city2")),
    # no relations
    _re("{per} visited {city} before flying to {city2} for the (summit|trade fair)."),
    _re("{per} met officials from {company} during a (short|two-day) trip to {country}."),
    _re("The (company|firm) did not say how many (workers|employees) would lose their jobs."),
]
RE_B = [
    _re("{per} took a job as an analyst at {company} after graduating in {city}.",
        ("per", "work for", "company")),
    _re("{company}, a startup founded by {per}, has its offices in {city}.",
        ("company", "founded by", "per"), ("company", "located in", "city")),
    _re("{drug} is the first pill approved to treat {dis}.", ("drug", "treats", "dis")),
    _re("{per}, born in {city}, coaches young researchers at {uni}.",
        ("per", "born in", "city"), ("per", "work for", "uni")),
    _re("{hospital} sits on a hill outside {city}, {country}.",
        ("hospital", "located in", "city"), ("city", "located in", "country")),
    _re("Since 2019, {per} has led the climate group at {uni}, which is based in {city}.",
        ("per", "work for", "uni"), ("uni", "located in", "city")),
    _re("Patients with {dis} respond well to {drug}, a study by {pharma} found.", ("drug", "treats", "dis")),
    _re("{per} and {per2} launched {company} from a small apartment in {city}.",
        ("company", "founded by", "per"), ("company", "founded by", "per2")),
    _re("{per} was born in {country} and now works for {pharma}.",
        ("per", "born in", "country"), ("per", "work for", "pharma")),
    _re("{pharma} built its research campus in {city}, close to {uni}.", ("pharma", "located in", "city")),
    _re("A generic version of {drug} could make {dis} care cheaper, says {per} of {hospital}.",
        ("drug", "treats", "dis"), ("per", "work for", "hospital")),
    _re("{per}, who was born in {city}, founded {company} and later hired {per2} as its chief engineer.",
        ("per", "born in", "city"), ("company", "founded by", "per"), ("per2", "work for", "company")),
    # no relations
    _re("{per} toured {city} with executives from {company} last week."),
    _re("Nobody at the meeting wanted to talk about the delayed (budget|audit)."),
]

_ACQ, _ATT, _APP, _ELE = "acquisition", "attack", "approval", "election"
EE_A = [
    _ee("{company} [E1:acquired|bought|purchased] {company2} for {money}.",
        E1=(_ACQ, {"buyer": "company", "target": "company2", "price": "money"})),
    _ee("{company} has agreed to [E1:buy|acquire] {company2} in a deal worth {money}.",
        E1=(_ACQ, {"buyer": "company", "target": "company2", "price": "money"})),
    _ee("The [E1:acquisition|takeover|purchase] of {company2} by {company}"
        " was completed on (Tuesday|Friday).",
        E1=(_ACQ, {"buyer": "company", "target": "company2"})),
    _ee("{company} [E1:took over] its rival {company2} last year, ending a long bidding war.",
        E1=(_ACQ, {"buyer": "company", "target": "company2"})),
    _ee("{company2} was [E1:bought|acquired] by {company} for {money},"
        " (sources said|a person close to the deal said).",
        E1=(_ACQ, {"buyer": "company", "target": "company2", "price": "money"})),
    _ee("The {money} [E1:takeover|acquisition] of {pharma} by {company} still faces a shareholder vote.",
        E1=(_ACQ, {"buyer": "company", "target": "pharma", "price": "money"})),
    _ee("{company} [E1:snapped up] {pharma} for {money} in an all-cash deal.",
        E1=(_ACQ, {"buyer": "company", "target": "pharma", "price": "money"})),
    _ee("Shares of {company2} jumped after {company} offered to [E1:buy] it for {money}.",
        E1=(_ACQ, {"buyer": "company", "price": "money"})),
    _ee("{attacker} [E1:attacked|stormed|raided] {tgt} in {city} early on Sunday.",
        E1=(_ATT, {"attacker": "attacker", "target": "tgt", "place": "city"})),
    _ee("At least six people were hurt when {attacker} [E1:bombed|shelled] {tgt} near {city}.",
        E1=(_ATT, {"attacker": "attacker", "target": "tgt", "place": "city"})),
    _ee("Police said {attacker} carried out the [E1:attack|assault|raid] on {tgt} overnight.",
        E1=(_ATT, {"attacker": "attacker", "target": "tgt"})),
    _ee("{tgt} in {city} was [E1:attacked|hit] by a car bomb on (Friday|Saturday).",
        E1=(_ATT, {"target": "tgt", "place": "city"})),
    _ee("{attacker} [E1:ambushed] {tgt} on the road to {city}, officials said.",
        E1=(_ATT, {"attacker": "attacker", "target": "tgt"})),
    _ee("The [E1:bombing] of {tgt} in {country} drew condemnation from neighboring governments.",
        E1=(_ATT, {"target": "tgt", "place": "country"})),
    _ee("{agency} [E1:approved|cleared|authorized] {drug} on {date}.",
        E1=(_APP, {"agency": "agency", "drug": "drug", "date": "date"})),
    _ee("{drug} won [E1:approval] from {agency} in {monthyear} after two large trials.",
        E1=(_APP, {"agency": "agency", "drug": "drug", "date": "monthyear"})),
    _ee("{agency} [E1:approved] {drug}, the first new treatment for the condition in a decade.",
        E1=(_APP, {"agency": "agency", "drug": "drug"})),
    _ee("On {date}, regulators at {agency} [E1:cleared] {drug} for use in children.",
        E1=(_APP, {"agency": "agency", "drug": "drug", "date": "date"})),
    _ee("{pharma} said that {agency} had [E1:approved] its (heart|cancer|asthma) drug {drug}.",
        E1=(_APP, {"agency": "agency", "drug": "drug"})),
    _ee("{per} was [E1:elected] {cityoffice} of {city} with 54 percent of the vote.",
        E1=(_ELE, {"winner": "per", "office": "cityoffice", "place": "city"})),
    _ee("{per} [E1:won] the vote to become {natoffice} of {country}.",
        E1=(_ELE, {"winner": "per", "office": "natoffice", "place": "country"})),
    _ee("Voters in {city} [E1:elected] {per} as their new {cityoffice} on Sunday.",
        E1=(_ELE, {"winner": "per", "office": "cityoffice", "place": "city"})),
    _ee("{per} was [E1:re-elected] {natoffice} despite a close race.",
        E1=(_ELE, {"winner": "per", "office": "natoffice"})),
    _ee("The [E1:election] in {country} was won by {per}, who promised lower taxes.",
        E1=(_ELE, {"winner": "per", "place": "country"})),
    _ee("{company} [E1:bought] {pharma} for {money} weeks after {agency} [E2:approved] {drug}.",
        E1=(_ACQ, {"buyer": "company", "target": "pharma", "price": "money"}),
        E2=(_APP, {"agency": "agency", "drug": "drug"})),
    _ee("{per} was [E1:elected] {cityoffice} of {city} a month after {attacker} [E2:attacked] {tgt} there.",
        E1=(_ELE, {"winner": "per", "office": "cityoffice", "place": "city"}),
        E2=(_ATT, {"attacker": "attacker", "target": "tgt"})),
    _ee("After {agency} [E1:approved] {drug} on {date}, {company} [E2:acquired] its maker {pharma}.",
        E1=(_APP, {"agency": "agency", "drug": "drug", "date": "date"}),
        E2=(_ACQ, {"buyer": "company", "target": "pharma"})),
    _ee("{attacker} [E1:attacked] {tgt} in {city} and [E2:raided] {tgt2} the next day.",
        E1=(_ATT, {"attacker": "attacker", "target": "tgt", "place": "city"}),
        E2=(_ATT, {"attacker": "attacker", "target": "tgt2"})),
    _ee("{per} [E1:won] a second term as {cityoffice} of {city}, while {per2} [E2:won] the race in {city2}.",
        E1=(_ELE, {"winner": "per", "office": "cityoffice", "place": "city"}),
        E2=(_ELE, {"winner": "per2", "place": "city2"})),
    _ee("In (Monday's|today's) headlines: {company} [E1:acquired] {company2}, {agency} [E2:cleared] {drug},"
        " and {per} [E3:won] the race for {natoffice}.",
        E1=(_ACQ, {"buyer": "company", "target": "company2"}),
        E2=(_APP, {"agency": "agency", "drug": "drug"}),
        E3=(_ELE, {"winner": "per", "office": "natoffice"})),
    # no events
    _ee("Analysts expect the (company|retailer|airline) to report weaker sales"
        " in the (third|fourth) quarter."),
    _ee("The board will (decide|vote) next (month|week) on whether to raise the dividend."),
]
EE_B = [
    _ee("{company} completed its [E1:purchase] of {company2} on Thursday for {money}.",
        E1=(_ACQ, {"buyer": "company", "target": "company2", "price": "money"})),
    _ee("{company2} agreed to be [E1:acquired] by {company} in a cash deal.",
        E1=(_ACQ, {"buyer": "company", "target": "company2"})),
    _ee("{attacker} [E1:struck] {tgt} outside {city} before dawn, killing two guards.",
        E1=(_ATT, {"attacker": "attacker", "target": "tgt", "place": "city"})),
    _ee("Witnesses said {tgt} in {city} came under [E1:attack] shortly after midnight.",
        E1=(_ATT, {"target": "tgt", "place": "city"})),
    _ee("{agency} [E1:authorized] {drug} for adults on {date}, the company said.",
        E1=(_APP, {"agency": "agency", "drug": "drug", "date": "date"})),
    _ee("{drug} received [E1:approval] from {agency} in {monthyear} after a lengthy review.",
        E1=(_APP, {"agency": "agency", "drug": "drug", "date": "monthyear"})),
    _ee("{per} was [E1:elected] {natoffice} of {country} after a tense runoff.",
        E1=(_ELE, {"winner": "per", "office": "natoffice", "place": "country"})),
    _ee("Residents of {city} [E1:voted] {per} in as {cityoffice} by a wide margin.",
        E1=(_ELE, {"winner": "per", "office": "cityoffice", "place": "city"})),
    _ee("Days after {attacker} [E1:raided] {tgt} in {city}, voters there [E2:elected] {per} as {cityoffice}.",
        E1=(_ATT, {"attacker": "attacker", "target": "tgt", "place": "city"}),
        E2=(_ELE, {"winner": "per", "office": "cityoffice"})),
    _ee("{company} [E1:bought] {pharma} for {money} shortly after {agency} [E2:cleared] {drug} on {date}.",
        E1=(_ACQ, {"buyer": "company", "target": "pharma", "price": "money"}),
        E2=(_APP, {"agency": "agency", "drug": "drug", "date": "date"})),
    _ee("{per} became {cityoffice} of {city} after the [E1:election], and rival {per2} conceded.",
        E1=(_ELE, {"winner": "per", "office": "cityoffice", "place": "city"})),
    _ee("Weekend roundup: {company} [E1:acquired] {company2}, {attacker} [E2:attacked] {tgt} in {city},"
        " and {agency} [E3:approved] {drug}.",
        E1=(_ACQ, {"buyer": "company", "target": "company2"}),
        E2=(_ATT, {"attacker": "attacker", "target": "tgt", "place": "city"}),
        E3=(_APP, {"agency": "agency", "drug": "drug"})),
    # no events
    _ee("Traffic across the bridge was slow all (morning|afternoon) because of roadworks."),
]


def _with_ids(templates: list[Template], task: str, half: str) -> list[Template]:
    return [Template(t.task, t.text, t.relations, t.events, id=f"{task}-{half}{i:02d}")
            for i, t in enumerate(templates, start=1)]


TEMPLATES: dict[str, dict[str, list[Template]]] = {
    "NER": {"A": _with_ids(NER_A, "NER", "A"), "B": _with_ids(NER_B, "NER", "B")},
    "RE": {"A": _with_ids(RE_A, "RE", "A"), "B": _with_ids(RE_B, "RE", "B")},
    "EE": {"A": _with_ids(EE_A, "EE", "A"), "B": _with_ids(EE_B, "EE", "B")},
}


def slot_kind(slot: str) -> str:
    return slot.rstrip("0123456789")


def slot_names(template: Template) -> list[str]:
    """Distinct slot names in order of first appearance."""
    names: list[str] = []
    for match in TOKEN_RE.finditer(template.text):
        if match["slot"] and match["slot"] not in names:
            names.append(match["slot"])
    return names


def template_units(template: Template) -> int:
    """Units every rendering of ``template`` carries (entity mentions, relations or events)."""
    if template.task == "NER":
        return sum(1 for m in TOKEN_RE.finditer(template.text) if m["slot"])
    return len(template.relations) if template.task == "RE" else len(template.events)


def check_template(template: Template) -> None:
    """Raise ValueError when a template's markup or annotations are inconsistent."""
    where = f"template {template.id} ({template.text!r})"
    slots = slot_names(template)
    stripped = TOKEN_RE.sub("", template.text)
    if any(ch in stripped for ch in "{}[]()|"):
        raise ValueError(f"{where}: stray markup characters")
    for slot in slots:
        if slot_kind(slot) not in POOLS and slot_kind(slot) not in PLACE_KINDS:
            raise ValueError(f"{where}: unknown slot kind {slot!r}")
        if template.task != "EE" and slot_kind(slot) not in ENTITY_KIND_TYPES:
            raise ValueError(f"{where}: slot {slot!r} is not an entity kind")
    occurrences = [m["slot"] for m in TOKEN_RE.finditer(template.text) if m["slot"]]
    for head, rel_type, tail in template.relations:
        for slot in (head, tail):
            if occurrences.count(slot) != 1:
                raise ValueError(f"{where}: relation slot {slot!r} must occur exactly once")
        pair = (ENTITY_KIND_TYPES[slot_kind(head)], ENTITY_KIND_TYPES[slot_kind(tail)])
        if pair not in RELATION_SIGNATURES.get(rel_type, []):
            raise ValueError(f"{where}: relation {rel_type!r} does not take {pair}")
    triggers = [m["event"] for m in TOKEN_RE.finditer(template.text) if m["event"]]
    if sorted(triggers) != sorted(template.events):
        raise ValueError(f"{where}: triggers {triggers} do not match events {sorted(template.events)}")
    for event_type, roles in template.events.values():
        for role, slot in roles.items():
            if role not in EVENT_TYPES.get(event_type, []) or slot not in slots:
                raise ValueError(f"{where}: bad argument {role!r} -> {slot!r} of {event_type!r}")


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------

def _draw(kind: str, half: str, rng: random.Random) -> Filler:
    pool = POOLS[kind][half]
    return pool(rng) if callable(pool) else rng.choice(pool)


def _draw_fillers(template: Template, half: str, rng: random.Random) -> dict[str, Filler]:
    """One filler per slot; distinct slots get distinct strings; cityN/countryN form a real pair."""
    fillers: dict[str, Filler] = {}
    used: set[str] = set()
    slots = slot_names(template)
    places: dict[str, tuple[str, str]] = {}
    for slot in slots:
        kind, suffix = slot_kind(slot), slot[len(slot_kind(slot)):]
        for _ in range(MAX_DRAWS_PER_RECORD):
            if kind in PLACE_KINDS:
                pair = places.get(suffix) or rng.choice(PLACES[half])
                filler: Filler = pair[PLACE_KINDS.index(kind)]
            else:
                pair, filler = None, _draw(kind, half, rng)
            name = filler if isinstance(filler, str) else filler[1]
            if name not in used:
                break
        else:
            raise RuntimeError(f"template {template.id}: cannot draw distinct fillers for {slot!r}")
        if pair is not None:
            places[suffix] = pair
        fillers[slot] = filler
        used.add(name)
    return fillers


def render(template: Template, half: str, rng: random.Random) -> tuple[str, dict[str, list[tuple[int, int]]],
                                                                          dict[str, tuple[int, int]]]:
    """Fill a template: (text, slot -> [(start, end)], event id -> trigger (start, end))."""
    fillers = _draw_fillers(template, half, rng)
    out: list[str] = []
    length = 0
    slot_spans: dict[str, list[tuple[int, int]]] = {}
    trigger_spans: dict[str, tuple[int, int]] = {}

    def emit(piece: str) -> int:
        nonlocal length
        if length == 0 and piece:
            piece = piece[0].upper() + piece[1:]
        start = length
        out.append(piece)
        length += len(piece)
        return start

    position = 0
    for match in TOKEN_RE.finditer(template.text):
        emit(template.text[position:match.start()])
        position = match.end()
        if match["slot"]:
            filler = fillers[match["slot"]]
            prefix, name = ("", filler) if isinstance(filler, str) else filler
            emit(prefix)
            start = emit(name)
            slot_spans.setdefault(match["slot"], []).append((start, length))
        elif match["event"]:
            start = emit(rng.choice(match["trigger"].split("|")))
            trigger_spans[match["event"]] = (start, length)
        else:
            emit(rng.choice(match["alts"].split("|")))
    emit(template.text[position:])
    return "".join(out), slot_spans, trigger_spans


def build_record(template: Template, half: str, rng: random.Random, *, split: str,
                 index: int) -> dict[str, Any]:
    """A unified record (every field, canonical order) from one rendering of ``template``."""
    text, slot_spans, trigger_spans = render(template, half, rng)

    def mention(slot: str, start: int, end: int) -> dict[str, Any]:
        return {"text": text[start:end], "type": ENTITY_KIND_TYPES[slot_kind(slot)],
                "start": start, "end": end}

    entities: list[dict[str, Any]] = []
    relations: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    if template.task in ("NER", "RE"):
        entities = sorted((mention(slot, s, e) for slot, spans in slot_spans.items() for s, e in spans),
                          key=lambda ent: (ent["start"], ent["end"]))
    if template.task == "RE":
        def entity_of(slot: str) -> dict[str, Any]:
            (start, end), = slot_spans[slot]
            return next(ent for ent in entities if ent["start"] == start and ent["end"] == end)

        relations = [{"head": entity_of(head), "type": rel_type, "tail": entity_of(tail)}
                     for head, rel_type, tail in template.relations]
        relations.sort(key=lambda rel: (rel["head"]["start"], rel["tail"]["start"], rel["type"]))
    if template.task == "EE":
        for event_id, (event_type, roles) in template.events.items():
            t_start, t_end = trigger_spans[event_id]
            arguments = [{"role": role, "text": text[s:e], "start": s, "end": e}
                         for role, slot in roles.items() for s, e in slot_spans[slot][:1]]
            arguments.sort(key=lambda arg: (arg["start"], arg["role"]))
            events.append({"type": event_type, "trigger": {"text": text[t_start:t_end], "start": t_start,
                                                            "end": t_end}, "arguments": arguments})
        events.sort(key=lambda event: event["trigger"]["start"])
    task = template.task
    return {"id": f"{dataset_name(task)}/{split}/{index}", "dataset": dataset_name(task), "task": task,
            "split": split, "text": text, "labels": labels_for(task), "entities": entities,
            "relations": relations, "events": events}


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------

def _schedule(templates: list[Template], count: int, rng: random.Random) -> list[Template]:
    """``count`` template picks: about ZERO_UNIT_FRACTION of them 0-unit templates, the rest cycled evenly."""
    zero = [t for t in templates if template_units(t) == 0]
    other = [t for t in templates if template_units(t) > 0]
    n_zero = max(1, round(count * ZERO_UNIT_FRACTION)) if zero else 0
    picks = [zero[i % len(zero)] for i in range(n_zero)]
    while len(picks) < count:
        cycle = list(other)
        rng.shuffle(cycle)
        picks.extend(cycle[:count - len(picks)])
    rng.shuffle(picks)
    return picks


def generate(seed: int = DEFAULT_SEED) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """All splits: split -> [(template id, record)], NER then RE then EE records in each split.

    Texts are unique across all splits (a repeated rendering is redrawn).
    """
    for task in TASKS:
        for half in ("A", "B"):
            for template in TEMPLATES[task][half]:
                check_template(template)
    seen: set[str] = set()
    result: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for split in SPLITS:
        half = SPLIT_POOL[split]
        rows: list[tuple[str, dict[str, Any]]] = []
        for task in TASKS:
            rng = random.Random(f"{seed}/{split}/{task}")
            for index, template in enumerate(_schedule(TEMPLATES[task][half], RECORDS_PER_TASK[split], rng)):
                for _ in range(MAX_DRAWS_PER_RECORD):
                    record = build_record(template, half, rng, split=split, index=index)
                    if record["text"] not in seen:
                        break
                else:
                    raise RuntimeError(
                        f"template {template.id}: no new text after {MAX_DRAWS_PER_RECORD} draws")
                seen.add(record["text"])
                rows.append((template.id, record))
        result[split] = rows
    return result


def write(out_dir: Path, data: dict[str, list[tuple[str, dict[str, Any]]]]) -> dict[str, Path]:
    """Write generated ``data`` as ``{split}.jsonl`` files (UTF-8, one record a line) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for split, rows in data.items():
        path = out_dir / f"{split}.jsonl"
        lines = [json.dumps(record, ensure_ascii=False) + "\n" for _, record in rows]
        path.write_bytes("".join(lines).encode("utf-8"))
        paths[split] = path
    return paths


def summary(data: dict[str, list[tuple[str, dict[str, Any]]]]) -> list[str]:
    """Human-readable lines: records, mean words per text and mean units per record, per split and task."""
    lines = []
    for split, rows in data.items():
        for task in TASKS:
            records = [record for _, record in rows if record["task"] == task]
            words = sum(len(r["text"].split()) for r in records) / len(records)
            units = sum(unit_count(r) for r in records) / len(records)
            zero = sum(1 for r in records if unit_count(r) == 0)
            lines.append(f"{split:5s} {task:3s} records={len(records):4d} words/text={words:5.1f} "
                         f"units/record={units:4.2f} zero-unit={zero}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder (default: data/sample next to this script)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--quiet", action="store_true", help="do not print the summary")
    args = parser.parse_args(argv)
    data = generate(args.seed)
    paths = write(args.out, data)
    if not args.quiet:
        print("\n".join([f"wrote {path}" for path in paths.values()] + summary(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
