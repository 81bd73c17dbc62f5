"""Named word lists found in one pass over a message (the answer plan's intents and
languages): the same names as asking each list on its own, in the declared order."""

from __future__ import annotations

from profiles.relevance import Phrases, Vocabulary

ENTRIES = {
    "cancel": ["cancel\\w*", "call off", "don'?t want it anymore", "stornieren"],
    "return": ["return\\w*", "send it back", "money back"],
    "where": ["where is my order", "tracking number", "wo ist"],
    "greeting": ["hello", "hi", "hola"],
    "digits": ["order #?w\\d{7}"],
}

MESSAGES = [
    "please cacnel my order",  # a swapped letter in a long word
    "I want to retrun it and get my money back",
    "hello, wehre is my order?",  # a swapped letter inside a phrase
    "i dont want it anymore",  # an entry that is a pattern, not plain words
    "hi! can you cancel order #W1234567 or send it back",
    "Wo ist meine Bestellung",
    "xancel it",  # a typo in the first letter is another word
    "the tracking numbers please",  # a plural: not the phrase's last word
    "cancellation please",  # a stem continues
    "returning the jacket",
    "this is fine",
    "",
]


def test_found_is_each_list_asked_alone_in_declared_order() -> None:
    vocab = Vocabulary.of(ENTRIES)
    alone = {name: Phrases.of(entries) for name, entries in ENTRIES.items()}
    for message in MESSAGES:
        expected = [name for name, p in alone.items() if p.search(message)]
        assert vocab.found(message) == expected, message
        exact = [name for name, p in alone.items() if p.search(message, typos=False)]
        assert vocab.found(message, typos=False) == exact, message


def test_what_is_found() -> None:
    vocab = Vocabulary.of(ENTRIES)
    assert vocab.found("please cacnel my order") == ["cancel"]
    assert vocab.found("please cacnel my order", typos=False) == []
    assert vocab.found("hi! can you cancel order #W1234567 or send it back") == [
        "cancel",
        "return",
        "greeting",
        "digits",
    ]
    assert vocab.found("i dont want it anymore") == ["cancel"]
    assert vocab.found("xancel it") == []
    assert vocab.found("hello, wehre is my order?") == ["where", "greeting"]


def test_only_keeps_the_names_asked() -> None:
    vocab = Vocabulary.of(ENTRIES).only(["return", "greeting"])
    assert vocab.found("hello, I want to cancel and get my money back") == [
        "return",
        "greeting",
    ]
    assert list(vocab.phrases) == ["return", "greeting"]


def test_a_yes_or_no_question_without_its_verb_ends_in_a_status_word():
    from profiles.relevance import asks_whether

    said = ["cancelled", "delivered", "active", "on its way", "cancelado"]
    for asked in (
        "my order already cancelled?",
        "card active yet?",
        "hey my package on its way?",
        "mi pedido cancelado?",
        "is it delivered",  # with its verb, question mark or not
    ):
        assert asks_whether(asked, said), asked
    for asked in (
        "my order already cancelled",  # no question: a statement
        "can I return it if it's delivered?",  # an action asked
        "why was it cancelled?",
        "a refund for my cancelled order?",  # the status describes, the order is asked of
    ):
        assert not asks_whether(asked, said), asked
