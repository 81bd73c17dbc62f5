"""The words of a message as relevance reads them: whole words and phrases with one typo
in a long word, product names' words, the question and answer phrases (how to, how
much, how long, a "yes, go ahead"), and the weights a record gets for being named.

Plain lexical signals, no model; the records' ranking itself is profiles/context.py's."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import AfterValidator
from rapidfuzz.distance import OSA

_WORD_RE = re.compile(r"[a-z0-9]+(?:[.%][a-z0-9]+)*%?")

_INTENT_WORDS: dict[str, frozenset[str]] = {
    "cancel": frozenset({"cancel", "cancelled", "cancellation", "cancelling"}),
    "modify": frozenset({"modify", "change", "switch", "update", "wrong", "edit"}),
    "return": frozenset(
        {"return", "refund", "broken", "damaged", "defective", "missing", "chipped", "money"}
    ),
    "exchange": frozenset({"exchange", "swap", "replace", "replacement"}),
    "track": frozenset({"track", "tracking", "where", "shipped", "arrive", "delivery", "status"}),
}


# Relevance a record gets for its id written in the message, and for its kind or what it
# holds named: callers compare against these to tell "asked about".
EXPLICIT_ID = 10.0
NAMED_PRODUCT = 3.0


HOW_TO = re.compile(
    r"\bhow (?:do|can|could|should|would|to)\b|\bwhat (?:do|should) i do\b"
    r"|\bc[oó]mo (?:puedo|hago|se)\b|\bcomment (?:faire|puis|je|on)\b"
    r"|\bwie (?:kann|mache|funktioniert)\b",
    re.I,
)
"""A question about the way ("how do I dispute a charge?"), not about the customer's own
charges: it names a record only by its id or one of its values."""

HOW_MUCH = re.compile(
    r"\bhow much\b|(?<!\ben )\bcu[aá]nt[oa]\b|\bcombien\b(?! d)|\bwie ?viel\b", re.I
)
"""A question about an amount ("how much did I pay?", "¿cuánto pagué?"); not how many
("cuántos pedidos", "combien de commandes", "wie viele"), nor "en cuanto llegue"."""
PAID = re.compile(
    r"\b(?:pa(?:y|id)|charged?|cost me|spen[dt]|owe|my|pagu[eé]|pag[oó]|pagado|cobr\w+|debo"
    r"|mis?|pay[eé]e?s?|dois|mon|ma|mes|bezahlt|gezahlt|schulde|mein\w*)\b",
    re.I,
)
"""What the customer paid or owes, or what is theirs: "how much did I pay?", "how much is
my order?"; not what something costs anyone ("how much does shipping cost?")."""


def asks_amount(message: str) -> bool:
    """A question about an amount, not about how long something takes (`HOW_LONG`:
    "¿cuánto tarda?", "how much longer")."""
    return HOW_MUCH.search(message) is not None and HOW_LONG.search(message) is None


HOW_LONG = re.compile(
    r"\bhow (?:long|many days|soon)\b|\bhow much (?:longer|more time)\b"
    r"|\bcu[aá]nto (?:tarda|tiempo|demora|falta)"
    r"|\bcombien de (?:temps|jours)\b|\bwie lange\b|\bwie viele tage\b",
    re.I,
)
"""A question about how long something takes ("how long does a dispute take?"): the help
articles answer it; it asks no action of the customer's records."""

_AGREE = r"ok(?:ay)?|yes|yeah|yep|yup|sure|s[ií]|vale|claro|oui|ja|genau"
_GO = (
    r"yes|yeah|yep|yup|sure|please(?: do)?|go ahead|do it|do that|proceed|s[ií]|claro"
    r"|adelante|hazlo|por favor|oui|d'accord|allez-y|vas-y|faites-le|ja|bitte|machen sie das"
    r"|mach das|gerne"
)
_AFTER = (
    r"please|go ahead|do it|then|now|por favor|hazlo|adelante|s'il vous pla[iî]t|allez-y"
    r"|bitte|gerne|thanks|thank you|gracias|merci|danke"
)
AFFIRMS = re.compile(
    rf"^\W*(?:(?:{_AGREE})\b[\s,!.]*)*(?:{_GO})\b(?:[\s,!.]+(?:{_AFTER})\b)*\W*$", re.I
)
"""A message that only agrees ("yes please", "ok do it", "sí, adelante", "oui, allez-y",
"ja, bitte"), not a bare "ok": after a message that asked for something to be done, the
go-ahead to do it."""

AGREES_TO = re.compile(
    r"^\W*(?:ok(?:ay)?|yes|yeah|yep|yup|sure|sí|si(?=\s*[,!.])|vale|claro|oui|ja|genau|please"
    r"|por favor|s'il vous pla[iî]t|bitte)\b(?!\W*(?:but|pero|mais|aber)\b)",
    re.I,
)
"""A message that opens by agreeing ("yes, cancel it", "ok please cancel it", "sí, cancelar
por favor"), not with a "but": agreeing to an action it restates."""
RESTATED_WORDS = 6  # a longer message asks more than the action it agrees to
NEGATES = re.compile(
    r"n't\b|\b(?:dont|do not|not|never ?mind|no|nope|wait|stop|hold on|ne|pas|nicht|nein"
    r"|kein\w*)\b",
    re.I,
)
"""A message that says not to, or not yet ("yes don't cancel it", "sí, no lo canceles",
"ok wait"): no go-ahead, whatever it opens with."""
DECLINES = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|oh|ah|actually|wait|hmm|sorry|hm|en fait|attendez|warte|moment)\W+)*"
    r"(?:no(?:pe)?|nah|nvm|never ?mind|nevermind|forget it|leave it|don'?t|do not|not now"
    r"|no gracias|olv[ií]dalo|d[eé]jalo|non|ne|laissez|nein|nicht|lass es|vergiss es)\b",
    re.I,
)
"""A message that opens by saying no ("no, leave it", "ok wait, don't", "never mind",
"déjalo", "non merci", "nein"): after an action was offered, it takes the offer back."""
DECLINE_WORDS = 6  # a longer message asks something of its own
# What a no may say besides the action it takes back, as TOKEN splits it ("don't" is
# "don" and "t"): "no, don't cancel it please", "nope, leave it for now", "no, no lo
# canceles, gracias", "non, ne l'annulez pas". Any other word says something of its own
# ("no, it hasn't arrived"): no taking back.
DECLINE_FILLER = frozenset(
    re.findall(
        r"\S+",
        "ok okay oh ah actually wait hmm hm sorry no nope nah nvm not dont don t do never mind"
        " nevermind"
        " forget leave it that this please pls thanks thank you for now yet anymore then after"
        " all just still i ll will keep let s lets stop hold on n"
        " lo la le eso esto déjalo dejalo olvídalo olvidalo gracias por favor todavía todavia"
        " mejor non ne pas l laissez merci finalement plus"
        " nein nicht doch danke bitte lass es vergiss noch lieber",
    )
)
OTHER_ONE = re.compile(r"\b(?:other|another|instead|otro|otra|autre|andere[nmrs]?)\b", re.I)

WHEN_DONE = re.compile(
    r"\bwhen (?:will|would|should|do|does) (?:i|we|it|they|my|the)\b"
    r"|\bcu[aá]ndo (?:me |se |lo |la |los |las )?"
    r"(?:recibir|llegar|devolver|reembolsar|ver)[aáeé]\w*"
    r"|\bquand (?:est-ce que (?:je|vous|il|elle)|vais-je|vont|va|serai|sera)\b"
    r"|\bwann (?:bekomme|erhalte|kommt|wird|werde)\b",
    re.I,
)
"""A question about when something will happen ("when will I get my money back?",
"¿cuándo recibiré el reembolso?"): it asks no action of the customer's records."""

YES_NO = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|and|so|hi|hey|hello|also|but)\W+)*(?:is|are|has|have|was|were|did)\b"
    r"|\bdid (?:it|they|my|the|this|that|these|those)\b"
    r"|\b(?:is|are) (?:it|they|my|the|this|that|these|those)\b"
    r"|^\W*(?:y\s+)?(?:ya\s+|todav[ií]a\s+|a[uú]n\s+)?(?:est[aá]n?|es|son|sigue|fue|fueron|ha|han)\b"
    r"|\b(?:ya|todav[ií]a|a[uú]n) (?:est[aá]n?|es|son|sigue|fue|fueron|ha|han)\b"
    r"|\best-(?:il|elle|ce)\b|\bsont-(?:ils|elles)\b"
    r"|^\W*(?:und\s+)?(?:ist|sind)\b|\b(?:ist|sind) (?:sie|es|er|meine?|die|der|das)\b",
    re.I,
)
"""A question asking yes or no of how something stands ("is it active yet?", "¿ya está
activa?", "est-elle active ?", "ist sie schon aktiv?"), not one asking what or where."""

_OPENING = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|and|so|hi|hey|hello|also|but)\W+)*"
    r"(?:can|could|would|will|should|do|does|please|i|we|you|puedo|puede|quiero|je|ich)\b",
    re.I,
)
_BY_NOW = frozenset(
    ["yet", "already", "now", "too", "ya", "todavia", "aun", "encore", "deja", "schon", "noch"]
)


def asks_whether(message: str, said: Iterable[str]) -> bool:
    """A yes-or-no question of how something stands (YES_NO), or one said without its verb:
    a question ending in one of the words a status is `said` by ("my order already
    cancelled?", "card active yet?"), not one asking what, for something, or for an
    action ("can I return it if it's delivered?")."""
    if YES_NO.search(message):
        return True
    if not message.rstrip().endswith("?") or WH.search(message) or REQUEST.search(message):
        return False
    if _OPENING.search(message):
        return False
    tokens = words(message)
    while tokens and tokens[-1] in _BY_NOW:
        tokens.pop()
    text = f" {' '.join(tokens)}"
    return any((ws := words(w)) and text.endswith(f" {' '.join(ws)}") for w in said)


WH = re.compile(
    r"\b(?:where|what|when|why|how|which|who|d[oó]nde|qu[eé]|cu[aá]ndo|por qu[eé]|c[oó]mo"
    r"|o[uù]|quand|pourquoi|comment|quel(?:le)?|wo|wann|warum|wie|was|welche[rs]?)\b",
    re.I,
)
"""A word asking what, where, when, why or how: no yes-or-no question."""

WHY = re.compile(r"\b(?:why|how come|por ?qu[eé]|pourquoi|warum|wieso|weshalb)\b", re.I)
"""A why ("why was it cancelled?", "¿por qué está pendiente?", typed "porque" too)."""

NEGATED = re.compile(
    r"n[’']t\b|\b(?:not|never|no|nunca|pas|jamais|nicht|nie|kein\w*)\b"
    # typed without the apostrophe: "why hasnt it shipped"
    r"|\b(?:has|have|had|is|are|was|were|did|does|do|wo|ca)nt\b",
    re.I,
)
"""A clause said in the negative ("why hasn't it shipped?", "¿por qué no ha llegado?",
"pourquoi n'est-il pas …"). Not NEGATES, a go-ahead taken back ("wait", "stop")."""

PARTICLES = frozenset({"back", "off", "up", "out", "down", "over", "away", "in", "on"})
"""The particle ending an English phrasal verb ("pay off", "send back"), which a pronoun
comes before: "pay it off"."""


def phrasal(name: str) -> tuple[str, str] | None:
    """An English phrasal verb's verb and particles ("turn back on": "turn", "back on"),
    between which a pronoun goes ("turn it back on"); None for any other phrase."""
    verb, _, rest = name.partition(" ")
    if not verb or not rest or not all(w in PARTICLES for w in rest.split()):
        return None
    return verb, rest


def phrase_forms(name: str) -> list[str]:
    """A phrase as a pattern, and a phrasal verb also with a pronoun before its particles
    ("pay off": "pay it off", "pay them off"; "turn back on": "turn it back on")."""
    forms = [re.escape(name)]
    if (split := phrasal(name)) is not None:
        verb, particles = split
        forms.append(rf"{re.escape(verb)} (?:it|them|this|that|these|those) {re.escape(particles)}")
    return forms


YET = re.compile(r"\b(?:yet|todav[ií]a|ya|a[uú]n|encore|d[ée]j[aà]|schon|noch|bereits)\b", re.I)
"""A word asking whether something has happened by now ("is it active yet?")."""

DURATION = re.compile(
    r"\b(?:\d+(?:[-–]\d+)?|an?|one|two|three|five|seven|ten|few|several|a few|un|una|unos|"
    r"pocos|varios|quelques|plusieurs|ein|eine|einige|wenige|mehrere)\s+(?:business\s+|working\s+|"
    r"h[aá]biles\s+|ouvrables\s+)?(?:minutes?|hours?|days?|weeks?|months?|minutos?|horas?|"
    r"d[ií]as?|semanas?|mes(?:es)?|heures?|jours?|semaines?|mois|stunden?|tagen?|wochen?|"
    r"monaten?)\b",
    re.I,
)
"""A sentence saying how long ("within 5-7 business days", "a few days to several weeks"):
what a question about how long it takes is answered by."""

STANDING = re.compile(
    r"\bwhere(?:'s|’s| is| are| r|s)\b|\bstatus\b|\b(?:any|an|the) updates?\b|\bupdate on\b"
    r"|\bany news\b|\barriv\w*|\beta\b|\bon (?:its|their|the) way\b|\bstill waiting\b"
    r"|\b(?:not|haven'?t|havent|never|hasn'?t) (?:yet )?(?:received|arrived|come|got|gotten)\b"
    r"|\b(?:gone|go|went) through\b|\bprogress\b"
    r"|\bd[oó]nde (?:est[aá]n?|anda|queda)\b|\bestado\b|\bllega\w*|\bnovedad\w*"
    r"|\bo[uù] (?:en )?(?:est|sont)\b|\bstatut\b|\bnouvelles\b"
    r"|\bwo (?:ist|sind|bleibt)\b|\bstand\b|\bankomm\w*|\bunterwegs\b",
    re.I,
)
"""A question about how things stand ("where is it?", "any news?", "¿dónde está?"): a
record still under way answers it when the message names none."""

LATEST = re.compile(
    r"\b(?:latest|newest|most recent|last one|last\W*$"
    # "my last order", not "in the last month", "the last 4 digits", "the last few"
    r"|(?:my|the) last(?! (?:\d|few|couple|two|three|time|digits?|days?|weeks?|months?|years?)\b)"
    r"|[úu]ltim[oa]s?|derni[eè]re?s?|letzte[nmrs]?|neueste[nmrs]?)\b",
    re.I,
)
"""The newest of what the message names ("the most recent one", "my last order", "el
último"): of records named alike, the latest is the one meant."""

REQUEST = re.compile(
    r"\b(?:can|could|may) (?:i|we|you) (?:get|have|order|request)\b"
    r"|\bi(?: would|'d|’d)? (?:want|need|like) (?:to|a|an|new|another)\b|\bi'?m looking for\b"
    r"|\b(?:quiero|necesito|quisiera)\b|\bje (?:veux|voudrais)\b|\bj'ai besoin\b"
    r"|\bich (?:möchte|will|brauche)\b",
    re.I,
)
"""A request for something done or given ("can I get a replacement card", "I want to
dispute a charge"): what the customer's records hold does not answer it by itself."""

# "my", in the four languages: what a message says is the customer's own
POSSESSIVE = frozenset(
    [
        "my",
        "our",
        "mi",
        "mis",
        "nuestra",
        "nuestro",
        "mon",
        "ma",
        "mes",
        "notre",
        "nos",
        "mein",
        "meine",
        "meinen",
        "meiner",
        "unser",
        "unsere",
    ]
)
OFFERED = re.compile(
    # not about something of theirs: "do you have any news on my refund?"
    rf"^(?!.*\b(?:{'|'.join(sorted(POSSESSIVE))})\b).*?(?:"
    r"\bdo (?:you|y'all|u) (?:guys )?(?:sell|have|carry|stock|offer)\b"
    r"|\b(?:venden|vendéis|tienen|tenéis|ofrecen)\b|\b(?:vendez|avez|proposez)-vous\b"
    r"|\b(?:verkaufen|haben|führen|bieten) sie\b)",
    re.I | re.S,
)
"""A question about what the business offers ("do you sell bikes?", "do you have a
travel card?"), not about what the customer holds."""


def unaccented(text: str) -> str:
    """Text without its accents ("línea" → "linea", "Straße" → "Strasse"): customers type
    either."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Lower-cased word tokens, without accents, with a trailing plural 's' folded away."""
    out = []
    for w in _WORD_RE.findall(unaccented(text).lower()):
        out.append(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w)
    return out


@lru_cache(maxsize=256)
def id_shape(pattern: str) -> re.Pattern[str]:
    """A kind's `id_pattern` compiled, matched whatever the case and as a whole id (not
    the end of a longer word nor the start of one); a ValueError that says why when it is
    no regular expression."""
    try:
        re.compile(pattern)
    except re.error as e:
        raise ValueError(f"id_pattern is no regular expression: {e}") from None
    return re.compile(rf"(?<![\w#])(?:{pattern})(?!\w)", re.IGNORECASE)


def checked_id_pattern(value: str) -> str:
    """`value` as a kind's `id_pattern`, once it compiles."""
    id_shape(value)
    return value


IdPattern = Annotated[str, AfterValidator(checked_id_pattern)]
"""A field holding a kind's `id_pattern` (a mapping's, an admin upsert's)."""


def written_ids(text: str, patterns: Iterable[str]) -> list[str]:
    """The ids `text` writes in any of the shapes `patterns` give (a kind's
    `id_pattern`), as written, each once, in the order written: "W3657213" and
    "#w3657213" are both an order's of the shape "#?W\\d{7}"."""
    found: dict[str, tuple[int, str]] = {}
    for pattern in dict.fromkeys(patterns):
        for m in id_shape(pattern).finditer(text):
            found.setdefault(plain_id(m.group()), (m.start(), m.group()))
    return [written for _, written in sorted(found.values())]


def plain_id(written: str) -> str:
    """An id as compared with another: letters and digits, lower-cased ("#W3657213" and
    "w3657213" are one id)."""
    return re.sub(r"[\W_]", "", written.lower())


def intents(text: str) -> set[str]:
    """The support intents whose trigger words occur in the message."""
    ws = set(words(text))
    return {name for name, triggers in _INTENT_WORDS.items() if ws & triggers}


@lru_cache(maxsize=4096)
def _name_words(name: str) -> tuple[str, ...]:
    # Product names repeat on every turn (the whole catalog is matched against each message).
    return tuple(words(name))


PRODUCT_WORDS_FILE = Path(__file__).with_name("product_words.yaml")


@lru_cache(maxsize=4)
def _product_phrases(
    path: Path = PRODUCT_WORDS_FILE,
) -> tuple[re.Pattern[str], dict[str, list[str]]]:
    """One pattern for every phrase customers use for a product, and phrase → products."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    names: dict[str, list[str]] = {}
    for product, by_language in (raw.get("products") or {}).items():
        for phrases in (by_language or {}).values():
            for phrase in phrases:
                names.setdefault(str(phrase).lower(), []).append(str(product))
    alternation = "|".join(re.escape(p) for p in sorted(names, key=len, reverse=True))
    # a compound's first part counts too: "Wasserkocher-Bestellung"
    pattern = re.compile(rf"(?<!\w)({alternation})(?:e?s|e?n|e)?(?!\w)", re.IGNORECASE)
    return pattern, names


@lru_cache(maxsize=256)
def message_words(text: str) -> frozenset[str]:
    """The message's words, and the catalog words of the products it names in other words
    or languages ("reloj", "Wasserkocher", "power bank"): what product names are matched
    against. A turn asks for the same message's words from context, relevance (once per
    order) and plan: they are worked out once."""
    ws = set(words(text))
    pattern, names = _product_phrases()
    for m in pattern.finditer(text):
        for product in names[m.group(1).lower()]:
            ws.update(_name_words(product))
    return frozenset(ws)


def said_for(text: str) -> dict[str, list[str]]:
    """Each product the message names in other words or languages → the phrases it used
    ("cafetera" → the Coffee Maker and the Espresso Machine), as written."""
    pattern, names = _product_phrases()
    out: dict[str, list[str]] = {}
    for m in pattern.finditer(text):
        for product in names[m.group(1).lower()]:
            out.setdefault(product, []).append(m.group(1))
    return out


def name_match(name: str, message_words: AbstractSet[str]) -> float:
    """1.0 when every word of a product name is in the message, 0.5 for its head noun only."""
    parts = _name_words(name)
    if not parts:
        return 0.0
    if all(p in message_words for p in parts):
        return 1.0
    return 0.5 if parts[-1] in message_words else 0.0


# -- words as customers type them: whole words, one typo in a long word --------------


def keyword_pattern(entries: list[str]) -> re.Pattern[str]:
    """One case-insensitive whole-word pattern for words, phrases or word patterns."""
    return re.compile(r"(?<!\w)(?:" + "|".join(entries) + r")(?!\w)", re.IGNORECASE)


_WORDS = re.compile(r"[^\W\d_]+(?: [^\W\d_]+)*")
TOKEN = re.compile(r"[^\W\d_]+")
FUZZY_MIN = 5  # words shorter than this must match exactly


@dataclass(frozen=True)
class Term:
    r"""A plain entry ("other one", 'refund\w*') that a typo may still match."""

    words: tuple[str, ...]
    prefix: bool  # the last word may continue ('refund\w*')
    owner: str = ""  # the name whose entry it is, in a Vocabulary


_Head = tuple[str, bool]  # a term's first word, and whether it is a stem standing alone
_SEEN_MOST = 4096  # tokens whose heads each Terms keeps (customers use the same words)


@dataclass(frozen=True)
class Terms:
    """Plain entries a typo may still match, by their first word. Which first words a
    message token is (exactly, by a stem, or with a typo) is worked out once per token
    and kept: customers write the same words again and again."""

    by_head: Mapping[_Head, tuple[Term, ...]] = field(default_factory=dict)
    # the heads by their first letter (a typo never changes a word's first letter)
    heads: Mapping[str, tuple[_Head, ...]] = field(default_factory=dict)
    _seen: dict[tuple[str, bool], tuple[_Head, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __bool__(self) -> bool:
        return bool(self.by_head)

    def heads_of(self, token: str, typos: bool) -> tuple[_Head, ...]:
        """The first words the token is: exactly, continuing a stem, or (`typos`) with one
        typo in a long word."""
        found = self._seen.get((token, typos))
        if found is None:
            close = _close if typos else _same
            found = tuple(h for h in self.heads.get(token[:1], ()) if close(token, *h))
            if len(self._seen) >= _SEEN_MOST:
                self._seen.clear()
            self._seen[(token, typos)] = found
        return found


def keyword_terms(entries: list[str]) -> Terms:
    """The plain entries (words, phrases, a stem with \\w*) that a typo may still match."""
    return _indexed([t for e in entries if (t := _term(e)) is not None])


def _indexed(terms: list[Term]) -> Terms:
    by_head: dict[_Head, list[Term]] = {}
    for term in terms:
        head = (term.words[0], term.prefix and len(term.words) == 1)
        by_head.setdefault(head, []).append(term)
    heads: dict[str, list[_Head]] = {}
    for head in by_head:
        heads.setdefault(head[0][0], []).append(head)
    return Terms(
        {h: tuple(ts) for h, ts in by_head.items()}, {k: tuple(v) for k, v in heads.items()}
    )


def _term(entry: str, owner: str = "") -> Term | None:
    """The entry as a plain term, or None when it is a pattern or has other characters."""
    text = entry.lower()
    prefix = text.endswith("\\w*")
    core = text[:-3] if prefix else text
    return Term(tuple(core.split()), prefix, owner) if _WORDS.fullmatch(core) else None


@lru_cache(maxsize=1 << 13)  # the same few hundred words, asked of every message's tokens
def _close(token: str, word: str, prefix: bool) -> bool:
    """Whether a message token is the word, allowing one typo (a wrong, missing, extra or
    swapped letter) in words of FUZZY_MIN letters or more, never in the first letter."""
    if prefix:
        token = token[: len(word) + 1] if len(token) > len(word) else token
        if token.startswith(word):
            return True
    if token == word:
        return True
    if len(word) < FUZZY_MIN or len(token) < FUZZY_MIN or token[0] != word[0]:
        return False
    if prefix and len(token) > len(word):
        # A stem with a swapped or an extra letter. Not one letter short: that is another
        # language's stem as often as a typo ("cancel…" / "cancela…", "return" / "retourn").
        return any(is_typo(token[:n], word) for n in (len(word), len(word) + 1))
    return is_typo(token, word)


def is_typo(token: str, word: str) -> bool:
    """One swapped, missing or extra letter. Not a replaced one, nor one added or left off
    at the end: those turn words into other real words ("change" / "charge" / "charger")."""
    if OSA.distance(token, word) != 1:
        return False
    if len(token) == len(word) + 1 and token.startswith(word):
        return False  # a letter added at the end makes another word: "charge" / "charger"
    if len(word) == len(token) + 1 and word.startswith(token):
        return False  # so does one left off: "activer" / "active"
    return len(token) != len(word) or sorted(token) == sorted(word)


def fuzzy_hit(tokens: list[str], terms: Terms, typos: bool = True) -> bool:
    """Whether the tokens hold one of the terms: exactly, by its stem or (`typos`) with
    one typo in a long word."""
    return any(True for _ in _hits(tokens, terms, typos))


def _hits(tokens: list[str], terms: Terms, typos: bool) -> Iterator[Term]:
    """The terms the tokens hold, as they are found (a term again for each place)."""
    close = _close if typos else _same
    n = len(tokens)
    for i, token in enumerate(tokens):
        for head in terms.heads_of(token, typos):
            for term in terms.by_head[head]:
                words = term.words
                last = len(words) - 1
                if last == 0 or (
                    i + last < n
                    and all(
                        close(tokens[i + k], words[k], term.prefix and k == last)
                        for k in range(1, last + 1)
                    )
                ):
                    yield term


def _same(token: str, word: str, prefix: bool) -> bool:
    """Whether a message token is the word, or continues it when it is a stem."""
    return token == word or (prefix and token.startswith(word))


@dataclass(frozen=True)
class Phrases:
    """Words and phrases (or word patterns) matched as whole words, case-insensitive; a
    plain one also with one typo in a long word ("a real preson", "fruad")."""

    pattern: re.Pattern[str]  # every entry (what a caller removing them uses)
    terms: Terms  # the plain entries: a message's tokens find them, exactly or with a typo
    # the other entries (patterns, words with an apostrophe or a digit), searched in the text
    rest: re.Pattern[str] | None = None

    @classmethod
    def of(cls, entries: list[str]) -> Phrases:
        """re.error for an entry that is no regular expression."""
        rest = [e for e in entries if _term(e) is None]
        return cls(
            keyword_pattern(entries),
            keyword_terms(entries),
            keyword_pattern(rest) if rest else None,
        )

    def search(self, text: str, tokens: list[str] | None = None, typos: bool = True) -> bool:
        """Whether the text holds one of the entries; `tokens`, its TOKENs lower-cased when
        the caller has them (a plain entry's whole-word match is a match of its tokens)."""
        if self.rest is not None and self.rest.search(text):
            return True
        return fuzzy_hit(
            TOKEN.findall(text.lower()) if tokens is None else tokens, self.terms, typos
        )


@dataclass(frozen=True)
class Vocabulary:
    """Named lists of entries (intents, languages), all found in one pass over a
    message's tokens: which names does the message use?"""

    phrases: dict[str, Phrases]  # each name's own entries
    terms: Terms  # every plain entry, each with its name

    @classmethod
    def of(cls, entries: Mapping[str, list[str]]) -> Vocabulary:
        """re.error, naming the name, for an entry that is no regular expression."""
        phrases = {}
        for name, es in entries.items():
            try:
                phrases[name] = Phrases.of(es)
            except re.error as exc:
                raise re.error(f"{name!r}: {exc}") from exc
        plain = [t for name, es in entries.items() for e in es if (t := _term(e, name))]
        return cls(phrases, _indexed(plain))

    def found(self, text: str, tokens: list[str] | None = None, typos: bool = True) -> list[str]:
        """The names whose entries the text holds, in their declared order; `tokens`, its
        TOKENs lower-cased when the caller has them."""
        if tokens is None:
            tokens = TOKEN.findall(text.lower())
        hit = {t.owner for t in _hits(tokens, self.terms, typos)}
        return [
            name
            for name, p in self.phrases.items()
            if name in hit or (p.rest is not None and p.rest.search(text))
        ]

    def only(self, names: Iterable[str]) -> Vocabulary:
        keep = set(names)
        terms = [t for ts in self.terms.by_head.values() for t in ts if t.owner in keep]
        return Vocabulary({n: p for n, p in self.phrases.items() if n in keep}, _indexed(terms))
