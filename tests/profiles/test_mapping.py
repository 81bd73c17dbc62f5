"""Mapping files: a business's own files become its customers, with errors that name the
file and the key. The businesses here are made up and shaped unlike the two demo ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlmodel import Session, select

from assistant.turn.plan import plan_turn
from profiles.db import create_schema, make_engine
from profiles.mapping import MappingError, import_files, load_mapping
from profiles.models import Consent, Customer


@pytest.fixture
def engine(tmp_path: Path):
    e = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    create_schema(e)
    yield e
    e.dispose()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_csv_of_members_becomes_customers_and_a_rerun_updates(tmp_path, engine):
    members = _write(
        tmp_path / "members.csv",
        "member_no,given,family,mail,home_town,lang\n"
        "M-1,Ana,Lima,ana@example.org,Porto,pt-PT\n"
        "M-2,Ben,Okafor,,Lagos,en-NG\n",
    )
    mapping = _write(
        tmp_path / "gym.yaml",
        "version: 1\n"
        "customers:\n"
        "  id: member_no\n"
        "  fields: {first_name: given, last_name: family, email: mail, city: home_town,"
        " locale: lang}\n",
    )
    report = import_files(engine, load_mapping(mapping), [members])
    assert (report.customers, report.created) == (2, 2)
    with Session(engine) as s:
        ana = s.get(Customer, "M-1")
        ben = s.get(Customer, "M-2")
        assert ana and (ana.name, ana.email, ana.city, ana.locale) == (
            "Ana Lima",
            "ana@example.org",
            "Porto",
            "pt-PT",
        )
        assert ben and ben.email is None  # an empty cell is no value, not ""
        consents = s.exec(select(Consent).where(Consent.customer_id == "M-1")).all()
        assert {c.purpose for c in consents if c.granted} == {
            "personalization",
            "history",
            "analytics",
        }

    _write(members, "member_no,given,family,mail,home_town,lang\nM-1,Ana,Lima,a@x.org,Braga,pt\n")
    again = import_files(engine, load_mapping(mapping), [members])
    assert (again.customers, again.created) == (1, 0)
    with Session(engine) as s:
        ana = s.get(Customer, "M-1")
        assert ana and (ana.email, ana.city) == ("a@x.org", "Braga")
        assert len(s.exec(select(Customer)).all()) == 2


def test_nested_json_keyed_by_id_and_jsonl(tmp_path, engine):
    export = _write(
        tmp_path / "export.json",
        '{"crm": {"people": {"p9": {"full": "Chidi Anagonye", "contact": {"email": "c@x.org"}},'
        ' "p10": {"full": "Eleanor", "contact": {}}}}}',
    )
    mapping = _write(
        tmp_path / "crm.yaml",
        "customers:\n"
        "  file: export.json\n"
        "  at: crm.people\n"
        "  id: '@key'\n"
        "  name: full\n"
        "  fields: {email: contact.email}\n"
        "  consent: not_granted\n",
    )
    other = _write(tmp_path / "other.csv", "x\n1\n")
    report = import_files(engine, load_mapping(mapping), [other, export])
    assert report.customers == 2
    with Session(engine) as s:
        chidi, eleanor = s.get(Customer, "p9"), s.get(Customer, "p10")
        assert chidi and (chidi.first_name, chidi.last_name, chidi.email) == (
            "Chidi",
            "Anagonye",
            "c@x.org",
        )
        assert eleanor and (eleanor.first_name, eleanor.last_name) == ("Eleanor", "")
        assert not any(c.granted for c in s.exec(select(Consent)).all())

    lines = _write(tmp_path / "subs.jsonl", '{"id": 7, "name": "Dana Scully"}\n\n{"id": 8}\n')
    jsonl = _write(tmp_path / "subs.yaml", "customers: {id: id, name: name}\n")
    assert import_files(engine, load_mapping(jsonl), [lines]).customers == 2
    with Session(engine) as s:
        dana = s.get(Customer, "7")
        assert dana and dana.name == "Dana Scully"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("customers: {id: id, fields: {shoe_size: s}}", "customers.fields: Value error, unknown"),
        ("customers: {fields: {}}", "customers.id: Field required"),
        ("customers: {id: id, colour: red}", "customers.colour: Extra inputs"),
        ("version: 2\ncustomers: {id: id}", "version: Input should be 1"),
        ("- a list", "expected a mapping"),
        ("customers: {id: id, consent: maybe}", "customers.consent"),
        (
            "records: [{kind: card, id: id, customer: c, allows: {'*': [close]},"
            " requires: {freeze: [{when: 'amount == 0', why: x}]}}]",
            "records.0: Value error, requires 'freeze': not one of its actions",
        ),
        (
            "records: [{kind: card, id: id, customer: c, allows: {'*': [close]},"
            " requires: {close: [{when: 'amount ==', why: x}]}}]",
            "records.0.requires.close.0.when: Value error, when: cannot parse the condition",
        ),
        (
            "records: [{kind: order, id: id, customer: c, allows: {pending: [cancel]},"
            " instead: {refund: cancel}}]",
            "records.0: Value error, instead 'refund': not one of its actions",
        ),
        (
            "records: [{kind: order, id: id, customer: c, allows: {pending: [cancel]},"
            " instead: {cancel: cancel}}]",
            "records.0: Value error, instead 'cancel': name another action to do instead",
        ),
        (
            "records: [{kind: line, id: id, customer: c, allows: {delivered: [return]},"
            " instead: {return: order.cancel}}]",
            "records.0: Value error, instead 'order.cancel': 'order' is none of its links",
        ),
        (
            "records: [{kind: order, id: id, customer: c, allows: {pending: [modify]}},"
            " {kind: line, id: id, customer: c, links: {order: o},"
            " allows: {delivered: [return]}, instead: {return: order.cancel}}]",
            "instead 'order.cancel': 'order' records have no action 'cancel'",
        ),
        (
            "records: [{kind: order, id: id, customer: c, allows: {pending: [cancel]},"
            " outcome: {refund: 'the money goes back'}}]",
            "records.0: Value error, outcome 'refund': not one of its actions",
        ),
        (
            "records: [{kind: booking, id: id, customer: c, open: [confirmed]}]",
            "records.0: Value error, open: names statuses; give `status` too",
        ),
        (
            "records: [{kind: parcel, id: id, customer: c, arrived: [delivered]}]",
            "records.0: Value error, arrived: names statuses; give `status` too",
        ),
        (
            "records: [{kind: invoice, id: id, customer: c, amount_said: 'It is {amount}.'}]",
            "records.0: Value error, amount_said: tells the amount; give `amount` too",
        ),
        (
            "records: [{kind: parcel, id: id, customer: c, status: s, status_words: {sent: []}}]",
            "records.0.status_words: Value error, sent: give the words it is said by",
        ),
        (
            "records: [{kind: parcel, id: id, customer: c, status_words: {sent: [shipped]}}]",
            "records.0: Value error, status_words: names statuses; give `status` too",
        ),
        (
            "records: [{kind: booking, id: id, customer: c, id_pattern: 'BK[0-9'}]",
            "records.0.id_pattern: Value error, id_pattern is no regular expression",
        ),
        (
            "records: [{kind: invoice, id: id, customer: c, amount: total, "
            "amount_said: {english: 'It is {amount}.'}}]",
            "records.0.amount_said: Value error, 'english' is not a two-letter language code",
        ),
    ],
)
def test_a_bad_mapping_names_the_file_and_the_key(tmp_path, text, says):
    path = _write(tmp_path / "bad.yaml", text)
    with pytest.raises(MappingError) as err:
        load_mapping(path)
    assert str(err.value).startswith(f"{path}: ") and says in str(err.value)


def test_a_source_that_does_not_fit_says_where(tmp_path, engine):
    data = _write(tmp_path / "d.json", '{"users": [{"id": "a"}, 3, {"id": ""}]}')
    wrong_path = _write(tmp_path / "m1.yaml", "customers: {at: people, id: id}\n")
    with pytest.raises(MappingError, match=r"d.json: nothing at 'people'"):
        import_files(engine, load_mapping(wrong_path), [data])
    not_object = _write(tmp_path / "m2.yaml", "customers: {at: users, id: id}\n")
    with pytest.raises(MappingError, match=r"d.json: users\[1\] is not an object"):
        import_files(engine, load_mapping(not_object), [data])
    missing = _write(tmp_path / "m3.yaml", "customers: {file: nope.json, id: id}\n")
    with pytest.raises(MappingError, match="'nope.json', which is not among the files"):
        import_files(engine, load_mapping(missing), [data])
    no_id = _write(tmp_path / "m4.yaml", "customers: {id: id}\n")
    rows = _write(tmp_path / "r.jsonl", '{"id": "ok"}\n{"name": "no id"}\n')
    with pytest.raises(MappingError, match=r"r.jsonl: customers\[1\]: no id at 'id'"):
        import_files(engine, load_mapping(no_id), [rows])
    with Session(engine) as s:  # checked before written: the good first row is not in
        assert s.exec(select(Customer)).all() == []


def test_records_of_another_shape_link_to_their_customers(tmp_path, engine):
    from profiles.context import record_facts
    from profiles.models import CustomerRecord

    people = _write(tmp_path / "members.csv", "nr,name\nM-1,Ana Lima\nM-2,Ben Okafor\n")
    plans = _write(
        tmp_path / "memberships.jsonl",
        '{"id": "ms-1", "member": "M-1", "plan": "Swim+", "state": "active",'
        ' "since": "03.02.2024", "fee": "EUR 39", "iban": "DE89370400440532013000"}\n'
        '{"id": "ms-2", "member": "M-1", "plan": "Yoga", "state": "paused",'
        ' "since": "01.06.2025"}\n'
        '{"id": "ms-3", "member": "M-2", "plan": "Gym", "state": "active",'
        ' "since": "2025-01-09"}\n',
    )
    mapping = _write(
        tmp_path / "gym.yaml",
        "customers: {file: members.csv, id: nr, name: name}\n"
        "records:\n"
        "  - kind: membership\n"
        "    file: memberships.jsonl\n"
        "    id: id\n"
        "    customer: member\n"
        "    status: state\n"
        "    date: since\n"
        "    sensitive: [iban]\n"
        "    words: [membership, plan, subscription]\n"
        "    show: '{plan} membership: {status} since {since}, {fee}'\n",
    )
    report = import_files(engine, load_mapping(mapping), [people, plans])
    assert (report.customers, report.records) == (2, 3)
    with Session(engine) as s:
        rows = {r.key: r for r in s.exec(select(CustomerRecord)).all()}
    swim = rows["ms-1"]
    assert (swim.customer_id, swim.kind, swim.status) == ("M-1", "membership", "active")
    assert swim.at is not None and (swim.at.year, swim.at.month, swim.at.day) == (2024, 2, 3)
    assert "iban" not in swim.fields and "DE89" not in swim.text  # never stored
    assert swim.text == "Swim+ membership: active since 03.02.2024, EUR 39"
    assert rows["ms-2"].text == "Yoga membership: paused since 01.06.2025"  # no fee, no ", "
    # re-running updates in place
    assert import_files(engine, load_mapping(mapping), [people, plans]).records == 3
    with Session(engine) as s:
        assert len(s.exec(select(CustomerRecord)).all()) == 3

    # What a message names ranks a record: its id, then its kind, then a value it holds.
    ana = [rows["ms-2"], rows["ms-1"]]  # newest first
    by_id = {f.id: f.relevance for f in record_facts(ana, "what about ms-1?")}
    assert by_id["record:membership:ms-1"] > by_id["record:membership:ms-2"] > 0
    by_kind = record_facts(ana, "is my membership still on?")
    assert all(f.relevance >= 3 for f in by_kind)
    by_value = {f.id: f.relevance for f in record_facts(ana, "can I keep doing yoga?")}
    assert by_value["record:membership:ms-2"] >= 3 > by_value["record:membership:ms-1"]
    assert all(f.relevance < 1 for f in record_facts(ana, "what time do you open?"))


def test_what_an_action_does_is_told_from_the_records_own_values(tmp_path, engine):
    """`outcome`: what the business tells a customer an action does, filled from the
    record like `show` (its `amount`, a linked record's fields); one template is English,
    and one that cannot be filled names the record and the action."""
    from profiles.context import record_facts
    from profiles.models import CustomerRecord

    people = _write(tmp_path / "members.csv", "nr,name\nM-1,Ana Lima\n")
    plans = _write(
        tmp_path / "memberships.jsonl",
        '{"id": "ms-1", "member": "M-1", "plan": "Swim+", "state": "active",'
        ' "paid": {"total": "39.5", "card": "Visa"}}\n',
    )
    mapping = _write(
        tmp_path / "gym.yaml",
        "customers: {file: members.csv, id: nr, name: name}\n"
        "records:\n"
        "  - kind: membership\n"
        "    file: memberships.jsonl\n"
        "    id: id\n"
        "    customer: member\n"
        "    status: state\n"
        "    amount: paid.total\n"
        "    allows: {active: [pause, cancel]}\n"
        "    outcome:\n"
        "      cancel: 'The {amount:€,.2f} of this month go back to your {paid.card}.'\n"
        "      pause: {en: 'Your {plan} plan waits for you.', es: 'Tu plan {plan} te espera.'}\n"
        "    amount_said: {en: 'Your {plan} plan is {amount:€,.2f} a month.', "
        "es: 'Tu plan {plan} cuesta {amount:€,.2f} al mes.'}\n",
    )
    import_files(engine, load_mapping(mapping), [people, plans])
    with Session(engine) as s:
        swim = s.exec(select(CustomerRecord)).one()
    assert swim.outcomes == {
        "cancel": {"en": "The €39.50 of this month go back to your Visa."},
        "pause": {"en": "Your Swim+ plan waits for you.", "es": "Tu plan Swim+ te espera."},
    }
    (fact,) = record_facts([swim], "can I pause my membership?")
    pause = next(a for a in fact.actions if a.name == "pause")
    assert pause.outcome_in("es") == "Tu plan Swim+ te espera."
    assert pause.outcome_in("fr") == "Your Swim+ plan waits for you."  # else English
    # `amount_said`: what a customer who asks how much is told of its amount
    assert fact.amount_texts == {
        "en": "Your Swim+ plan is €39.50 a month.",
        "es": "Tu plan Swim+ cuesta €39.50 al mes.",
    }
    broken = _write(
        tmp_path / "broken.yaml",
        mapping.read_text().replace("{paid.card}", "{paid.card[9]}"),
    )
    with pytest.raises(MappingError, match=r"membership\[0\]: outcome cancel: its template"):
        import_files(engine, load_mapping(broken), [people, plans])


def test_a_coded_status_reads_as_words_in_each_language(tmp_path, engine):
    """ "ON_HOLD" is how the business's system writes it, not how a customer reads it: a
    status reads as its label in the record's language, else as its code in plain words."""
    from profiles.models import CustomerRecord

    people = _write(tmp_path / "people.csv", "nr,name\nP-1,Ana Lima\n")
    loans = _write(
        tmp_path / "loans.csv",
        "id,who,state\nL-1,P-1,ON_HOLD\nL-2,P-1,IN_ARREARS\n",
    )
    mapping = _write(
        tmp_path / "loans.yaml",
        "labels: {ON_HOLD: {es: en espera}}\n"
        "customers: {file: people.csv, id: nr, name: name}\n"
        "records:\n"
        "  - kind: loan\n"
        "    file: loans.csv\n"
        "    id: id\n"
        "    customer: who\n"
        "    status: state\n"
        "    show: {en: 'Loan {key}: {status}', es: 'Préstamo {key}: {status}'}\n",
    )
    import_files(engine, load_mapping(mapping), [people, loans])
    with Session(engine) as s:
        rows = {r.key: r for r in s.exec(select(CustomerRecord)).all()}
    assert rows["L-1"].status == "ON_HOLD"  # the code is kept for rules and segments
    assert (rows["L-1"].text, rows["L-1"].texts["es"]) == (
        "Loan L-1: on hold",
        "Préstamo L-1: en espera",
    )
    assert rows["L-2"].text == "Loan L-2: in arrears"


def test_records_that_do_not_fit_are_refused_before_any_is_written(tmp_path, engine):
    from profiles.models import CustomerRecord

    people = _write(tmp_path / "p.csv", "nr\nM-1\n")
    bad_date = _write(
        tmp_path / "r.csv", "id,member,since\nr1,M-1,2024-01-01\nr2,M-1,next tuesday\n"
    )
    spec = (
        "customers: {file: p.csv, id: nr}\n"
        "records: [{kind: plan, file: r.csv, id: id, customer: member, date: since}]\n"
    )
    with pytest.raises(MappingError, match=r"r.csv: plan\[1\]: date .since.: matches none of"):
        import_files(engine, load_mapping(_write(tmp_path / "m.yaml", spec)), [people, bad_date])
    stranger = _write(tmp_path / "s.csv", "id,member\nr1,M-9\n")
    spec2 = "records: [{kind: plan, file: s.csv, id: id, customer: member}]\n"
    with pytest.raises(MappingError, match="records of unknown customer 'M-9'"):
        import_files(engine, load_mapping(_write(tmp_path / "m2.yaml", spec2)), [stranger])
    # an id that is not of the shape its kind says ids have: a mistake in the pattern
    odd = _write(tmp_path / "o.csv", "id,member\nPL-1,M-1\nPL-2b,M-1\n")
    spec3 = (
        "records: [{kind: plan, file: o.csv, id: id, customer: member, id_pattern: 'PL-\\d+'}]\n"
    )
    with pytest.raises(MappingError, match=r"o.csv: plan\[1\]: its id 'PL-2b' is not of the shape"):
        import_files(engine, load_mapping(_write(tmp_path / "m3.yaml", spec3)), [people, odd])
    with Session(engine) as s:
        assert s.exec(select(CustomerRecord)).all() == []
    for text, says in [
        ("records: [{kind: Plan, id: id, customer: c}]", "records.0.kind"),
        ("records: [{kind: plan, id: id}]", "records.0: Value error, give either 'customer'"),
        ("records: [{kind: plan, id: id, customer_via: acct}]", "'acct' is not one of its links"),
        ("records: [{kind: plan, id: '@parent.id', customer: c}]", "climbs 1 levels; 'at' nests 0"),
        ("records: [{kind: plan, id: id, customer: c, show: '{oops'}]", "not a template"),
        ("version: 1", "a mapping maps customers, records, reference data or some"),
    ]:
        with pytest.raises(MappingError, match=re.escape(says)):
            load_mapping(_write(tmp_path / "bad.yaml", text))


def test_a_business_of_another_shape_from_a_mapping_alone(tmp_path, engine):
    """An airline: passengers in CSV, bookings keyed by id with their flight segments
    nested inside, flights as reference data, payments in CSV that name only the booking."""
    from profiles.context import record_facts
    from profiles.models import CustomerRecord, ReferenceItem
    from profiles.reads import read_records

    passengers = _write(
        tmp_path / "passengers.csv",
        "pid,full_name,email\nP1,Ana Lima,ana@example.org\nP2,Ben Okafor,ben@example.org\n",
    )
    flights = _write(tmp_path / "flights.csv", "flight_no,from,to\nRA12,LIS,JFK\nRA30,JFK,LIS\n")
    bookings = _write(
        tmp_path / "bookings.json",
        json.dumps(
            {
                "bookings": {
                    "BK1": {
                        "passenger": "P1",
                        "status": "confirmed",
                        "booked": "2026-11-02",
                        "segments": [
                            {"seg": "BK1-1", "flight": "RA12", "seat": "14C", "status": "ticketed"},
                            {"seg": "BK1-2", "flight": "RA30", "seat": "", "status": "waitlisted"},
                        ],
                    },
                    "BK2": {"passenger": "P2", "status": "cancelled", "booked": "2026-10-01"},
                    "BK3": {"passenger": "P1", "status": "confirmed", "booked": "2026-11-20"},
                }
            }
        ),
    )
    payments = _write(
        tmp_path / "payments.csv",
        "id,booking,amount,card_number,paid_on\n"
        "PAY-1,BK1,412.50,4111111111111111,02/11/2026\n"
        "PAY-2,BK2,99,4000000000000002,01/10/2026\n",
    )
    mapping = _write(
        tmp_path / "airline.yaml",
        """
customers: {file: passengers.csv, id: pid, name: full_name, fields: {email: email}}
reference:
  - {name: flight, file: flights.csv, id: flight_no, show: "Flight {key} {from}-{to}"}
records:
  - kind: booking
    file: bookings.json
    at: bookings
    id: "@key"
    customer: passenger
    status: status
    open: [confirmed]
    date: booked
    words: [booking, reservation, trip]
    show: "Booking {key}: {status}, booked {booked}"
    allows: {Confirmed: [cancel, change_seat], cancelled: []}
    action_names:
      cancel: {en: [cancel, call off], es: [cancelar, anular]}
      change_seat: {es: cambiar el asiento, fr: changer de siège}
  - kind: segment
    file: bookings.json
    at: bookings.*.segments
    id: seg
    customer: "@parent.passenger"
    links: {booking: "@parent.@key", flight: flight}
    status: status
    words: [flight, seat]
    show: "Flight {flight.key} {flight.from}-{flight.to}, booking {booking}: seat {seat}, {status}"
  - kind: payment
    file: payments.csv
    id: id
    links: {booking: booking}
    customer_via: booking
    amount: amount
    date: paid_on
    date_formats: ["%d/%m/%Y"]
    sensitive: [card_number]
    words: [payment, paid, charge]
    allows: {"*": [refund]}   # whatever its status
    action_names: {refund: {en: [refund, money back]}}
    show: "Payment {key} for booking {booking}: {amount} on {paid_on}"
""",
    )
    files = [passengers, flights, bookings, payments]
    report = import_files(engine, load_mapping(mapping), files)
    assert (report.customers, report.reference, report.records) == (2, 2, 7)
    assert import_files(engine, load_mapping(mapping), files).records == 7  # a rerun updates
    with Session(engine) as s:
        rows = {r.key: r for r in s.exec(select(CustomerRecord)).all()}
        assert len(rows) == 7 and len(s.exec(select(ReferenceItem)).all()) == 2
        ana = read_records(s, "P1")
    seg = rows["BK1-1"]
    assert (seg.customer_id, seg.links) == ("P1", {"booking": "BK1", "flight": "RA12"})
    assert seg.text == "Flight RA12 LIS-JFK, booking BK1: seat 14C, ticketed"
    assert rows["BK1-2"].text == "Flight RA30 JFK-LIS, booking BK1: seat, waitlisted"
    pay = rows["PAY-2"]  # the owner came through the booking it names
    assert (pay.customer_id, pay.amount, pay.at.month) == ("P2", 99.0, 10)
    assert "card_number" not in pay.fields and "4000" not in pay.text
    assert {r.key for r in ana} == {"BK1", "BK3", "BK1-1", "BK1-2", "PAY-1"}
    # what each status allows next, the statuses matched whatever their case
    assert (rows["BK1"].allows, rows["BK2"].allows) == (["cancel", "change_seat"], [])
    assert rows["BK2"].actions == {
        "cancel": {"en": ["cancel", "call off"], "es": ["cancelar", "anular"]},
        "change_seat": {"en": "change seat", "es": "cambiar el asiento", "fr": "changer de siège"},
    }
    assert rows["PAY-1"].allows == ["refund"]
    assert rows["PAY-1"].actions == {"refund": {"en": ["refund", "money back"]}}

    # Ana's two confirmed bookings both allow cancelling: the plan asks which one
    asked = "I want to cancel my booking"
    choice = plan_turn(asked, records=record_facts(ana, asked)).choose
    assert choice is not None and choice.action == "cancel"
    assert sorted(choice.records) == ["record:booking:BK1", "record:booking:BK3"]

    # "any news?" names nothing: her trips still ahead are what it asks about
    news = [f for f in record_facts(ana, "any news?") if f.id.startswith("record:booking:")]
    assert {f.id for f in news if f.relevance >= 1} == {"record:booking:BK1", "record:booking:BK3"}

    # A message naming a booking ranks what belongs to it above the customer's other trip.
    rank = {f.id: f.relevance for f in record_facts(ana, "did my payment for BK1 go through?")}
    assert rank["record:booking:BK1"] > rank["record:payment:PAY-1"] > rank["record:booking:BK3"]
    assert rank["record:segment:BK1-1"] > rank["record:booking:BK3"]

    # A short follow-up that names no record reads on from the message before it ...
    said = "did my payment for BK1 go through?"
    follow = {f.id: f.relevance for f in record_facts(ana, "can I change it?", earlier=said)}
    assert follow["record:booking:BK1"] > follow["record:payment:PAY-1"] >= 1.0
    assert follow["record:booking:BK3"] < 1.0
    # ... one that names its own record does not, and a long message stands alone.
    own = {f.id: f.relevance for f in record_facts(ana, "and BK3?", earlier=said)}
    assert own["record:booking:BK3"] > own["record:booking:BK1"]
    long = "I have one more question about something else entirely, can I change it?"
    alone = record_facts(ana, long, earlier=said)
    assert all(f.relevance < 1.0 for f in alone)

    # A payment whose booking was never imported is refused, naming the item and the link.
    stray = _write(tmp_path / "late.csv", "id,booking,amount,card_number,paid_on\nPAY-9,BK7,1,,\n")
    only_payments = _write(
        tmp_path / "pay.yaml",
        "records: [{kind: payment, id: id, links: {booking: booking}, customer_via: booking}]\n",
    )
    with pytest.raises(MappingError, match=r"late.csv: payment\[0\]: its booking 'BK7' is not"):
        import_files(engine, load_mapping(only_payments), [stray])
    # ... while one whose booking is already stored links to it.
    known = _write(tmp_path / "known.csv", "id,booking,amount,card_number,paid_on\nPAY-3,BK3,5,,\n")
    import_files(engine, load_mapping(only_payments), [known])
    with Session(engine) as s:
        late = s.exec(select(CustomerRecord).where(CustomerRecord.key == "PAY-3")).one()
    assert late.customer_id == "P1"


def test_a_record_is_named_by_a_number_of_its_own_and_a_how_to_asks_the_way():
    from profiles.context import record_facts
    from profiles.models import CustomerRecord

    def card(key: str, last4: str) -> CustomerRecord:
        return CustomerRecord(
            customer_id="c",
            kind="card",
            key=key,
            status="ACTIVE",
            fields={"last4": last4},
            text=f"Card {key} ending {last4}",
            words=["card"],
        )

    rows = [card("k1", "4821"), card("k2", "7293")]
    rank = {f.id: f.relevance for f in record_facts(rows, "is the card ending 7293 ok?")}
    assert rank["record:card:k2"] >= 10 > rank["record:card:k1"]
    # "how do I …" about a kind is a question about the way, not about their cards ...
    assert all(f.relevance < 1 for f in record_facts(rows, "how do I block a card?"))
    # ... unless it names one of them
    named = {f.id: f.relevance for f in record_facts(rows, "how do I block card 4821?")}
    assert named["record:card:k1"] >= 10


def test_the_store_itself_maps_without_code(tmp_path, engine):
    """τ-retail by `profiles/mappings/tau_retail.yaml`: nested names and addresses, the
    catalog as reference data, payment methods nested in users, order lines nested in
    orders (an item listed twice is two lines), links, status rules and languages."""
    from profiles.context import record_facts
    from profiles.mapping import RETAIL_MAPPING, retail_files
    from profiles.models import CustomerRecord, ReferenceItem
    from profiles.reads import read_records
    from tests.conftest import RETAIL

    report = import_files(engine, load_mapping(RETAIL_MAPPING), retail_files(RETAIL))
    # 50 products and their 591 variants (379 in stock)
    assert (report.customers, report.reference) == (500, 641)
    with Session(engine) as s:
        olivia = s.get(Customer, "olivia_ito_3591")
        assert olivia is not None and (olivia.first_name, olivia.zip) == ("Olivia", "80218")
        items = s.exec(select(ReferenceItem)).all()
        variants = [i for i in items if i.name == "product_item"]
        assert (len(items), len(variants), sum(i.offered for i in variants)) == (641, 591, 379)
        tee = next(i for i in items if i.key == "9523456873")
        assert tee.text == "T-Shirt (product 9523456873)"  # its own name, not "product"
        blue = next(i for i in variants if i.key == "9612497925")
        assert blue.part_of == "product:9523456873"
        assert blue.text == "item 9612497925 (blue, M, cotton, crew neck) $50.88"
        rows = read_records(s, "olivia_ito_3591")
        lines = s.exec(select(CustomerRecord).where(CustomerRecord.kind == "order_line")).all()
    assert len({r.key for r in lines}) == len(lines)  # one record per line, twice-listed too
    order = next(r for r in rows if r.key == "#W5442520")
    # coded values read as the shopper reads them, in each language: "credit_card" is a
    # credit card, "pending" pendiente
    assert order.text == (
        "Order #W5442520 (Gaming Mouse, Patio Umbrella, Hiking Boots): pending, "
        "paid with credit card Visa ending 9182"
    )
    assert order.texts["es"] == (
        "Pedido #W5442520 (Gaming Mouse, Patio Umbrella, Hiking Boots): pendiente, "
        "pagado con tarjeta de crédito Visa terminada en 9182"
    )
    # every status of its kind, with the words it is said by: "is it delivered yet?"
    assert order.statuses["PENDING"] == ["pending", "pendiente", "en attente", "ausstehend"]
    assert set(order.statuses) == {"PENDING", "PROCESSED", "DELIVERED", "CANCELLED"}
    # what it cost, and what a cancellation does with it, told in each language
    assert order.amount == 663.85
    assert order.outcomes["cancel"]["en"] == (
        "Once it is cancelled, the $663.85 you paid goes back to your Visa credit card ending 9182."
    )
    assert (
        "los $663.85 que pagaste vuelven a tu tarjeta de crédito Visa terminada en 9182"
        in (order.outcomes["cancel"]["es"])
    )
    line = next(r for r in rows if r.key.startswith("#W5442520/"))
    assert " in order #W5442520: pending" in line.text  # its order's status, read through
    assert order.allows == ["cancel", "modify", "change_address"]
    # a line is where its order is: a delivered tablet can be returned or exchanged
    assert line.status == "pending" and line.allows == ["modify"]
    delivered = next(r for r in rows if r.kind == "order_line" and r.status == "delivered")
    assert delivered.allows == ["return", "exchange"]
    # an order not yet delivered is under way; a delivered or cancelled one is done
    assert {r.status: r.open for r in rows if r.kind == "order"} == {
        "pending": True,
        "processed": True,
        "delivered": False,
    }
    # its status as customers read it in their language, from the mapping's labels
    delivered_order = next(r for r in rows if r.kind == "order" and r.status == "delivered")
    assert delivered_order.status_texts == {"es": "entregado", "fr": "livrée", "de": "zugestellt"}
    # a delivered one has reached them ("I never got it" goes to a person); not the rest
    assert {r.status: r.arrived for r in rows if r.kind == "order"} == {
        "pending": False,
        "processed": False,
        "delivered": True,
    }
    # "where's my stuff?" names nothing: the orders under way are what it asks about
    # (what they were paid with comes behind them, as behind any named record)
    stuff = record_facts(rows, "where's my stuff??")
    best = max(f.relevance for f in stuff)
    stuff = [f for f in stuff if f.relevance > best - 0.5]
    assert {f.status for f in stuff} == {"pending", "processed"}
    assert {f.id.split(":")[1] for f in stuff} == {"order"}
    assert order.links["payment_method"] in {r.key for r in rows if r.kind == "payment_method"}
    facts = record_facts(rows, "can I cancel #W5442520?")
    top = max(facts, key=lambda f: f.relevance)
    assert top.id == "record:order:#W5442520"
    assert next(a for a in top.actions if a.name == "cancel").allowed
    # the order id is hers: never "I don't see that order
    # number in your orders"; the records answer for it
    shapes = {r.id_pattern for r in rows if r.id_pattern}
    plan = plan_turn("can I cancel #W5442520?", records=facts, id_patterns=shapes)
    assert not any(i.missing for i in plan.intents) and not plan.about_records
    # however she writes it
    plan = plan_turn("can I cancel w5442520?", records=facts, id_patterns=shapes)
    assert not any(i.missing for i in plan.intents) and not plan.about_records
    elsewhere = plan_turn("can I cancel #W0000001?", records=facts, id_patterns=shapes)
    assert [m for i in elsewhere.intents for m in i.missing] == ["#W0000001"]

    # the same line id twice is refused before anything is written, saying how to fix it
    twice = _write(
        tmp_path / "lines.yaml",
        "records: [{kind: line, file: orders.json, at: '*.items',"
        " id: '{@parent.@key}/{item_id}', customer: '@parent.user_id'}]\n",
    )
    with pytest.raises(MappingError, match="give each item its own id"):
        import_files(engine, load_mapping(twice), retail_files(RETAIL))


def test_a_question_about_how_things_stand_reads_what_is_under_way():
    """ "Where is it?", "any news?", "¿dónde está?": of the records named, the ones under way
    first; naming none, the ones under way, else the latest of a kind that can be; never
    a kind that says not what is under way, nor a how-to."""
    from profiles.context import record_facts
    from profiles.models import CustomerRecord

    def booking(key: str, status: str, under_way: bool | None) -> CustomerRecord:
        return CustomerRecord(
            customer_id="c",
            kind="booking",
            key=key,
            status=status,
            text=f"Booking {key}: {status}",
            words=["booking", "reserva"],
            open=under_way,
        )

    card = CustomerRecord(customer_id="c", kind="card", key="k1", status="ACTIVE", words=["card"])
    rows = [booking("BK3", "FLOWN", False), booking("BK2", "CONFIRMED", True), card]

    def named(message: str, records: list[CustomerRecord] = rows) -> list[str]:
        facts = record_facts(records, message)
        top = max(f.relevance for f in facts)
        return [f.id for f in facts if f.relevance >= 1 and f.relevance > top - 0.5]

    for message in ("where is my stuff", "any update?", "¿dónde está lo mío?", "wo bleibt es?"):
        assert named(message) == ["record:booking:BK2"], message
    # named by kind: the one under way before the newer one done
    assert named("what's the status of my booking") == ["record:booking:BK2"]
    assert set(named("show me my bookings")) == {"record:booking:BK2", "record:booking:BK3"}
    # nothing under way: the latest of the kind that can be
    done = [booking("BK3", "FLOWN", False), booking("BK1", "FLOWN", False), card]
    assert named("any news?", done) == ["record:booking:BK3"]
    # not over a better-named one: "my debit card" is not the credit card on its way
    debit = CustomerRecord(
        customer_id="c", kind="debit_card", key="d1", words=["debit card", "card"], open=False
    )
    shipping = CustomerRecord(customer_id="c", kind="card_order", key="o1", words=["card"])
    shipping.open = True
    assert named("where is my debit card?", [shipping, debit]) == ["record:debit_card:d1"]
    assert named("where is my card?", [debit, shipping]) == ["record:card_order:o1"]
    # the way, not their records; and a kind that never says what is under way
    assert all(f.relevance < 1 for f in record_facts(rows, "how do I track a booking?"))
    assert all(f.relevance < 1 for f in record_facts([card], "where is it?"))


def test_a_charge_that_names_its_card_by_type_links_to_the_customers_card(tmp_path, engine):
    """A source that names the linked record by a value (its card type), not its id, links
    to the customer's own record holding that value; none or several matching: no link."""
    from profiles.models import CustomerRecord

    bank = _write(
        tmp_path / "bank.json",
        json.dumps(
            {
                "users": {"u1": {"name": "Ana Lima"}, "u2": {"name": "Ben Okafor"}},
                "cards": [
                    {"id": "c-ana-gold", "user": "u1", "type": "Gold Card"},
                    {"id": "c-ana-eco", "user": "u1", "type": "EcoCard"},
                    {"id": "c-ana-eco2", "user": "u1", "type": "EcoCard"},
                    {"id": "c-ben-gold", "user": "u2", "type": "Gold Card"},
                ],
                "charges": [
                    {"id": "t1", "user": "u1", "card": "Gold Card", "shop": "Costco"},
                    {"id": "t2", "user": "u2", "card": "Gold Card", "shop": "Costco"},
                    {"id": "t3", "user": "u1", "card": "EcoCard", "shop": "REI"},
                    {"id": "t4", "user": "u1", "card": "Platinum", "shop": "Uline"},
                ],
            }
        ),
    )
    mapping = _write(
        tmp_path / "bank.yaml",
        "customers: {at: users, id: '@key', name: name}\n"
        "records:\n"
        "  - {kind: card, at: cards, id: id, customer: user, show: '{type} {key}'}\n"
        "  - kind: charge\n"
        "    at: charges\n"
        "    id: id\n"
        "    customer: user\n"
        "    links: {card: {field: card, matching: type}}\n"
        "    show: '{shop} on {card.type} ({card})'\n",
    )
    import_files(engine, load_mapping(mapping), [bank])
    with Session(engine) as s:
        rows = {r.key: r for r in s.exec(select(CustomerRecord)).all()}
    assert rows["t1"].links == {"card": "c-ana-gold"}  # Ana's Gold Card, not Ben's
    assert rows["t2"].links == {"card": "c-ben-gold"}
    assert rows["t1"].text == "Costco on Gold Card (c-ana-gold)"
    assert rows["t3"].text.startswith("REI on")  # a link that found none reads as empty
    assert rows["t3"].links == {} and rows["t4"].links == {}  # two EcoCards; no Platinum

    bad = _write(
        tmp_path / "bad.yaml",
        "customers: {at: users, id: '@key'}\n"
        "records:\n"
        "  - kind: charge\n"
        "    at: charges\n"
        "    id: id\n"
        "    customer_via: card\n"
        "    links: {card: {field: card, matching: type}}\n",
    )
    with pytest.raises(MappingError, match="customer_via 'card' must be a link by id"):
        load_mapping(bad)


def test_what_a_long_message_names_of_many_records_ranks_them():
    """A value held by every record names none; the charge whose merchant, amount and date
    a message gives leads the merchant's others; the card a named charge was made on comes
    with it."""
    from profiles.context import record_facts
    from profiles.models import CustomerRecord

    def charge(key: str, shop: str, amount: str, day: str) -> CustomerRecord:
        return CustomerRecord(
            customer_id="c",
            kind="charge",
            key=key,
            status="COMPLETED",
            fields={"card_type": "Gold Rewards Card", "shop": shop, "amount": amount, "on": day},
            text=f"Charge {key}: {shop} {amount} on {day}",
            words=["charge"],
            links={"card": "cc-7"},
        )

    card = CustomerRecord(
        customer_id="c",
        kind="card",
        key="cc-7",
        status="OPEN",
        fields={"card_type": "Gold Rewards Card", "balance": "$1,134.26"},
        text="Gold Rewards Card",
        words=["card"],
    )
    rows = [
        charge("t1", "Amazon", "$56.78", "11/13/2025"),
        charge("t2", "Amazon", "$1,299.99", "10/08/2025"),
        charge("t3", "Netflix", "$22.99", "11/01/2025"),
        charge("t4", "Amazon", "$89.99", "10/05/2025"),
        charge("t5", "Spotify", "$10.99", "10/02/2025"),
        card,
    ]
    msg = (
        "I was charged twice. On my Gold Rewards Card: Amazon $1,299.99 on 10/08 is not "
        "mine, and the Spotify one was cancelled months ago."
    )
    rank = {f.id.split(":")[-1]: f.relevance for f in record_facts(rows, msg)}
    # merchant, amount and date before the merchant alone; a merchant before a charge
    # that is only on the card the message names
    assert rank["t2"] > rank["t5"] > rank["t4"] > rank["t3"] + 0.5
    assert abs(rank["t4"] - rank["t1"]) < 0.4  # Amazon alone: only their recency differs
    # the card, written whole, and its charge named by merchant, amount and date lead
    assert set(sorted(rank, key=rank.__getitem__)[-2:]) == {"t2", "cc-7"}
    # a card the message does not name comes right behind its named charge
    unnamed = "Amazon $1,299.99 on 10/08 is not mine, and the Spotify one was cancelled."
    alone = {f.id.split(":")[-1]: f.relevance for f in record_facts(rows, unnamed)}
    assert alone["t2"] > alone["cc-7"] >= alone["t2"] - 1.0
    # amounts read as amounts: "1299.99" and "$1,299.99" are one
    again = {f.id.split(":")[-1]: f.relevance for f in record_facts(rows, "the 1299.99 one")}
    assert max(again, key=again.__getitem__) == "t2"
    # the card's type on its charges names the card: "my Gold Rewards Card" is the card
    owe = record_facts(rows, "how much do I owe on my Gold Rewards Card")
    assert max(owe, key=lambda f: f.relevance).id == "record:card:cc-7"
    # a name of three capitals names its record; three small letters are a word
    rows.append(charge("t6", "REI Co-op", "$178.50", "10/18/2025"))
    rei = {f.id.split(":")[-1]: f.relevance for f in record_facts(rows, "what was that rei charge")}
    assert max(rei, key=rei.__getitem__) == "t6"
    # a name of short words names its record when written whole
    rows.append(charge("t7", "Per Se", "$587.42", "10/27/2025"))
    per_se = record_facts(rows, "wie viel habe ich bei Per Se ausgegeben?")
    assert max(per_se, key=lambda f: f.relevance).id == "record:charge:t7"
    the = {f.id.split(":")[-1]: f.relevance for f in record_facts(rows, "was the charge ok")}
    assert the["t6"] < the["t1"]  # "the" names nothing; the newest charge leads


def test_what_a_customer_holds_by_name_is_their_records_names_not_their_codes() -> None:
    """The names help articles may be about: an account's product, a card's type (one
    word with a capital inside too), not a status, an id, an amount or a plain word."""
    from profiles.context import held_names
    from profiles.models import CustomerRecord

    account = CustomerRecord(
        customer_id="c",
        kind="account",
        key="chk_1",
        status="OPEN",
        fields={"level": "Green Account", "class": "checking", "status": "OPEN", "id": "chk_1"},
        text="Green Account",
    )
    card = CustomerRecord(
        customer_id="c",
        kind="card",
        key="cc_1",
        status="ACTIVE",
        fields={"card_type": "EcoCard", "balance": "$1,134.26", "opened": "06/15/2024"},
        text="EcoCard",
    )
    # a name as articles qualify it too: "Green Account (checking)"
    assert held_names([account, card, account]) == [
        "Green Account",
        "Green Account (checking)",
        "EcoCard",
    ]


def test_a_template_writes_an_amount_as_money_in_the_business_currency() -> None:
    """`{field:$,.2f}`: an amount written as text or as a number, with the sign before it;
    a value that is no number stays as it is, and an empty one leaves its part out."""
    from profiles.mapping import _render

    fields = {"held": "2850.00", "owed": "$1,134.26", "moved": -50.0, "note": "n/a", "fee": ""}
    line = "{held:$,.2f} {owed:$,.2f} {moved:$,.2f} {note:$,.2f}[, fee {fee:€,.2f}] {held:€,.0f}"
    assert _render(line, fields) == "$2,850.00 $1,134.26 -$50.00 n/a €2,850"


def test_a_template_writes_a_date_as_each_language_writes_it(tmp_path, engine):
    """`{opened:date}` (`date short|long|full` too) writes a date held as text the way the
    template's language does; `{opened:%d/%m}` by a strftime pattern; a date in one of the
    kind's own `date_formats` reads too, a blank one leaves its part out, text that is no
    date stays as it is, and an unknown length is a mistake that names the record."""
    from profiles.mapping import _render
    from profiles.models import CustomerRecord

    people = _write(tmp_path / "people.csv", "nr,name\nP-1,Ana Lima\n")
    lines = _write(
        tmp_path / "lines.csv",
        "id,who,opened,renews\nM-1,P-1,03.12.2026,2027-01-31\nM-2,P-1,soon,\n",
    )
    mapping = _write(
        tmp_path / "lines.yaml",
        "customers: {file: people.csv, id: nr, name: name}\n"
        "records:\n"
        "  - kind: line\n"
        "    file: lines.csv\n"
        "    id: id\n"
        "    customer: who\n"
        "    date_formats: ['%d.%m.%Y']\n"
        "    show:\n"
        "      en: 'Line {key}, opened {opened:date}[, renews {renews:date long}]'\n"
        "      es: 'Línea {key}, alta el {opened:date}[, se renueva el {renews:date long}]'\n"
        "      de: 'Anschluss {key} seit {opened:date short}'\n",
    )
    import_files(engine, load_mapping(mapping), [people, lines])
    with Session(engine) as s:
        rows = {r.key: r for r in s.exec(select(CustomerRecord)).all()}
    assert rows["M-1"].text == "Line M-1, opened Dec 3, 2026, renews January 31, 2027"
    assert rows["M-1"].texts["es"] == (
        "Línea M-1, alta el 3 dic 2026, se renueva el 31 de enero de 2027"
    )
    assert rows["M-1"].texts["de"] == "Anschluss M-1 seit 03.12.26"
    assert rows["M-2"].text == "Line M-2, opened soon"  # no date: as written, blank: left out
    assert _render("{d:%d/%m}", {"d": "2026-12-03"}) == "03/12"
    bad = _write(tmp_path / "bad.yaml", mapping.read_text().replace("date short", "date huge"))
    with pytest.raises(MappingError, match=r"lines.csv.*date huge"):
        import_files(engine, load_mapping(bad), [people, lines])


def test_a_business_s_own_customer_attributes_reach_agents_prompts_and_segments(tmp_path, engine):
    """`customers.attributes` maps the business's own facts about each customer (a tier,
    a member-since year) beside the fixed fields: stored with them, re-imported as the data
    now says, on the card agents and the prompt read, readable by segment rules
    (`attributes['tier']`, "" when a customer has none) and in their data export. A path
    no customer holds, or a name a rule could not read, is a mistake in the mapping."""
    from assistant.compose import _card_text
    from assistant.types import Decision
    from profiles.context import ProfileRepository
    from profiles.features import customer_features
    from profiles.privacy import customer_records
    from profiles.segments import Segments

    people = _write(
        tmp_path / "members.csv", "nr,name,tier,since\nP-1,Ana Lima,gold,2019\nP-2,Bo Chen,,2024\n"
    )
    text = (
        "customers:\n  file: members.csv\n  id: nr\n  name: name\n"
        "  attributes: {tier: tier, member_since: since}\n"
    )
    mapping = _write(tmp_path / "members.yaml", text)
    import_files(engine, load_mapping(mapping), [people])
    with Session(engine) as s:
        ana, bo = s.get(Customer, "P-1"), s.get(Customer, "P-2")
        assert ana is not None and bo is not None
        assert ana.attributes == {"tier": "gold", "member_since": "2019"}
        assert bo.attributes == {"member_since": "2024"}
        rules = _write(
            tmp_path / "segments.yaml",
            "segments:\n  - {name: gold, when: \"attributes['tier'] == 'gold'\"}\n",
        )
        segments = Segments.load(rules)
        assert segments.of(customer_features(s, "P-1")) == ["gold"]
        assert segments.of(customer_features(s, "P-2")) == []  # none: "", not an error
    card = ProfileRepository(engine).card("P-1")
    assert card is not None and card.attributes["tier"] == "gold"
    assert "tier gold, member since 2019" in _card_text(card, Decision())
    export = customer_records(engine, "P-1")
    assert export is not None and export.customer["attributes"]["tier"] == "gold"
    # the data now says otherwise: so does the customer
    _write(people, "nr,name,tier,since\nP-1,Ana Lima,silver,2019\n")
    import_files(engine, load_mapping(mapping), [people])
    with Session(engine) as s:
        assert s.get(Customer, "P-1").attributes["tier"] == "silver"  # type: ignore[union-attr]
    wrong = _write(tmp_path / "wrong.yaml", text.replace("tier: tier", "tier: level"))
    with pytest.raises(MappingError, match=r"attributes: tier: 'level' reads nothing.*tier"):
        import_files(engine, load_mapping(wrong), [people])
    spaced = _write(tmp_path / "spaced.yaml", text.replace("tier: tier", "loyalty tier: tier"))
    with pytest.raises(MappingError, match=r"spaced.yaml.*attributes"):
        load_mapping(spaced)


def test_a_kind_the_message_names_and_the_customer_holds_none_of_is_a_fact() -> None:
    """ "my debit card" from someone with only credit cards: a fact that they hold none
    (the phrase shares "card" with their cards, which would otherwise answer), not when
    they ask for one, nor for a word of no kind of theirs ("pay")."""
    from profiles.context import none_held
    from profiles.models import CustomerRecord

    card = CustomerRecord(
        customer_id="c",
        kind="credit_card",
        key="cc_1",
        status="ACTIVE",
        text="Gold Rewards Card",
        words=["credit card", "card"],
    )
    kinds = {
        "credit_card": ["credit card", "card"],
        "debit_card": ["debit card", "card"],
        "card_payment": ["payment", "pay"],
    }
    facts = none_held([card], kinds, "whats the status of my debit card")
    assert [(f.id, f.terms) for f in facts] == [("none:debit_card", ["debit card"])]
    assert "no debit card" in facts[0].text
    assert none_held([card], kinds, "what's the balance on my card") == []
    assert none_held([card], kinds, "can I get a debit card too?") == []
    assert none_held([card], kinds, "when did I pay Best Buy") == []


def test_what_a_named_record_links_to_brings_its_offered_parts(tmp_path, engine):
    """A hotel: room types as reference data with their rate plans nested inside (one
    sold out), bookings that link to a room type. "can I switch my deluxe booking to the
    breakfast rate" brings the Deluxe King with its rates still on sale, the one with
    breakfast first; a message naming no booking brings none."""
    from profiles.context import none_linked, own_words, reference_facts
    from profiles.context import record_facts as ranked
    from profiles.reads import read_records

    rooms = {
        "DK": {
            "title": "Deluxe King",
            "rates": {
                "R1": {"label": "room only", "price": 180, "open": "yes"},
                "R2": {"label": "with breakfast", "price": 215, "open": "yes"},
                "R3": {"label": "flexible with breakfast", "price": 260, "open": "no"},
            },
        },
        "ST": {"title": "Standard Twin", "rates": {"R4": {"label": "room only", "price": 120}}},
        "GS": {"title": "Garden Suite", "rates": {}},
    }
    (tmp_path / "rooms.json").write_text(json.dumps(rooms), encoding="utf-8")
    (tmp_path / "bookings.csv").write_text(
        "ref,guest,room,state\nBK-1,g1,DK,confirmed\nBK-2,g1,ST,cancelled\n", encoding="utf-8"
    )
    (tmp_path / "guests.csv").write_text("id,name\ng1,Ada Byron\n", encoding="utf-8")
    mapping = _write(
        tmp_path / "hotel.yaml",
        """
version: 1
customers: {file: guests.csv, id: id, name: name}
reference:
  - {name: room_type, file: rooms.json, id: "@key", show: "{title} (room type {key})"}
  - name: rate
    file: rooms.json
    at: "*.rates"
    id: "@key"
    part_of: {room_type: "@parent.@key"}
    available: open
    show: "rate {key}: {label}, ${price:,.2f} a night"
records:
  - kind: booking
    file: bookings.csv
    id: ref
    customer: guest
    status: state
    links: {room_type: room}
    words: [booking, reservation, stay]
    show: "Booking {key}: {status}"
""",
    )
    files = [tmp_path / n for n in ("rooms.json", "bookings.csv", "guests.csv")]
    assert import_files(engine, load_mapping(mapping), files).reference == 7
    message = "can I switch my deluxe booking to the breakfast rate"
    with Session(engine) as s:
        rows = read_records(s, "g1")
        facts = reference_facts(s, rows, ranked(rows, message), message)
        none = reference_facts(s, rows, ranked(rows, "what time is checkout"), "x")
    assert [f.id for f in facts] == ["reference:room_type:DK"]
    text = facts[0].text
    assert text.startswith("Deluxe King (room type DK): rate R2: with breakfast, $215.00")
    assert "rate R1: room only" in text and "R3" not in text  # sold out: never offered
    assert facts[0].kind == "product" and facts[0].relevance >= 1.0
    assert none == []
    # a room type none of her bookings is for: "I don't see …", not her other bookings
    names = {
        (n, k): own_words(n, k, t)
        for n, k, t in [
            ("room_type", "GS", "Garden Suite (room type GS)"),
            ("room_type", "DK", "Deluxe King (room type DK)"),
        ]
    }
    (absent,) = none_linked(rows, names, "is my garden suite booking confirmed?")
    assert absent.id.endswith("room_type:GS") and absent.terms == ["garden suite"]
    assert none_linked(rows, names, "is my deluxe king booking confirmed?") == []
    assert none_linked(rows, names, "can I get a garden suite next time?") == []  # a request
    # a request for what is done to what one holds is about something held: not hers
    cancellable = [r.model_copy(update={"actions": {"cancel": {"es": ["cancelar"]}}}) for r in rows]
    for asked in ("I want to cancel my garden suite", "quiero cancelar la garden suite"):
        (absent,) = none_linked(cancellable, names, asked)
        assert absent.id.endswith("room_type:GS"), asked
    assert none_linked(cancellable, names, "can I get a garden suite next time?") == []
    bad = _write(
        tmp_path / "bad.yaml",
        "reference: [{name: rate, file: rooms.json, at: '*.rates', id: '@key',"
        " part_of: {a: '@parent.@key', b: x}}]\n",
    )
    with pytest.raises(MappingError, match="part of one other item"):
        load_mapping(bad)


def test_an_action_its_status_allows_can_need_more_of_the_record():
    """The bank's credit cards can be closed whatever their status, once the balance is
    zero and the card is 60 days old: checked when read (an age grows), on numbers as the
    data writes them ("$842.15"), and said with the business's reason in each language."""
    from datetime import UTC, datetime

    from profiles.context import record_actions
    from profiles.mapping import BANK_MAPPING
    from profiles.models import CustomerRecord

    spec = next(r for r in load_mapping(BANK_MAPPING).records if r.kind == "credit_card")
    needs = {
        a: [{"when": r.when, "why": r.reasons()} for r in rs] for a, rs in spec.requires.items()
    }

    def card(balance: str, opened: datetime) -> CustomerRecord:
        return CustomerRecord(
            customer_id="c",
            kind="credit_card",
            key="cc_1",
            amount=float(balance.strip("$").replace(",", "")),
            at=opened,
            fields={"current_balance": balance},
            allows=["replace", "close"],
            actions=spec.actions(),
            requires=needs,
        )

    now = datetime(2026, 3, 1, tzinfo=UTC)
    paid_off = {
        a.name: a for a in record_actions(card("$0.00", datetime(2025, 1, 1, tzinfo=UTC)), now)
    }
    assert paid_off["close"].allowed and not paid_off["close"].why
    owing = {
        a.name: a for a in record_actions(card("$842.15", datetime(2025, 1, 1, tzinfo=UTC)), now)
    }
    assert not owing["close"].allowed and owing["replace"].allowed
    assert owing["close"].why["en"] == "its balance must be $0.00 first"
    assert owing["close"].why["es"] == "su saldo debe ser $0.00 antes"
    young = {
        a.name: a for a in record_actions(card("$0.00", datetime(2026, 2, 1, tzinfo=UTC)), now)
    }
    assert young["close"].why["en"] == "it must have been open for at least 60 days"
    later = record_actions(
        card("$0.00", datetime(2026, 2, 1, tzinfo=UTC)), datetime(2026, 4, 15, tzinfo=UTC)
    )
    assert next(a for a in later if a.name == "close").allowed  # the same card, 60 days on


def test_a_short_question_of_its_own_does_not_read_on_from_the_one_before():
    """After "is my debit card active?", "any fees this month?" or "¿tengo alguna comisión
    este mes?" asks something new: the card named before is not read on; "can I activate
    it?", "why?", "activate" or "¿puedo activarla?" are about what was named before."""
    from profiles.context import record_facts
    from profiles.models import CustomerRecord

    card = CustomerRecord(
        customer_id="c",
        kind="debit_card",
        key="d1",
        status="PENDING",
        text="Debit card d1 ending 8765: PENDING",
        words=["debit card", "card"],
        allows=["activate"],
        actions={"activate": {"en": "activate", "es": "activar"}},
    )
    account = CustomerRecord(customer_id="c", kind="account", key="a1", words=["account"])
    rows = [card, account]
    earlier = "is my debit card active?"

    def read_on(message: str) -> bool:
        facts = {f.id: f.relevance for f in record_facts(rows, message, earlier=earlier)}
        return facts["record:debit_card:d1"] >= 1.0

    for follow_up in ("can I activate it?", "why?", "how much?", "activate", "¿puedo activarla?"):
        assert read_on(follow_up), follow_up
    for own in ("any fees this month?", "¿tengo alguna comisión este mes?", "what's the wire fee"):
        assert not read_on(own), own


def test_what_the_business_offers_answers_a_question_about_it(tmp_path: Path) -> None:
    """ "do you sell bikes?" (or "¿venden bicicletas?"): the catalog's Bicycle with the
    versions to be had now, whoever asks; a product with none in stock says so; a
    question about what they hold reads no catalog."""
    from profiles.context import OFFERED_ID, offered_facts
    from profiles.models import ReferenceItem

    e = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    create_schema(e)
    with Session(e) as s:
        s.add(ReferenceItem(name="product", key="p1", text="Bicycle (product p1)"))
        s.add(ReferenceItem(name="product", key="p2", text="Backpack (product p2)"))
        for key, offered in (("v1", True), ("v2", False), ("v3", True)):
            text = f"item {key} (red, road)"
            s.add(
                ReferenceItem(
                    name="product_item", key=key, text=text, part_of="product:p1", offered=offered
                )
            )
        s.add(
            ReferenceItem(
                name="product_item", key="b1", text="item b1", part_of="product:p2", offered=False
            )
        )
        s.commit()
        names = {("product", "p1"): "Bicycle", ("product", "p2"): "Backpack"}
        for message in ("do you sell bikes?", "¿venden bicicletas?"):
            (bike,) = offered_facts(s, names, message)
            assert bike.id == f"{OFFERED_ID}product:p1" and bike.relevance >= 1.0
            assert bike.terms == [
                "Bicycle (product p1)",
                "item v1 (red, road)",
                "item v3 (red, road)",
            ]
        (bag,) = offered_facts(s, names, "do you have backpacks?")
        assert bag.terms == ["Backpack (product p2)"] and "none available" in bag.text
        assert offered_facts(s, names, "where is my bike?") == []


def test_an_id_in_the_shape_of_the_business_ids_that_is_none_of_theirs(tmp_path, engine):
    """A gym whose memberships are written "GM-" and digits: a member who writes another's
    number is told it is not theirs to see, whatever the case; their own is read; a reply
    naming a membership its context does not hold is caught. A kind without a pattern
    (visits) names no id by shape."""
    from assistant.check import foreign_identifiers
    from profiles.context import ProfileRepository

    members = _write(tmp_path / "m.csv", "nr,name\nA,Ana Lima\nB,Ben Okafor\n")
    plans = _write(tmp_path / "plans.csv", "id,member,state\nGM-1001,A,active\nGM-2002,B,frozen\n")
    visits = _write(tmp_path / "visits.csv", "id,member\nV1,A\n")
    spec = _write(
        tmp_path / "gym.yaml",
        "customers: {file: m.csv, id: nr, name: name}\n"
        "records:\n"
        "  - {kind: membership, file: plans.csv, id: id, customer: member, status: state,\n"
        "     id_pattern: 'GM-\\d{4}', words: [membership]}\n"
        "  - {kind: visit, file: visits.csv, id: id, customer: member}\n",
    )
    import_files(engine, load_mapping(spec), [members, plans, visits])
    repo = ProfileRepository(engine)
    ctx = repo.context("A", "is gm-2002 still frozen?")
    assert ctx is not None and ctx.id_patterns == {"membership": "GM-\\d{4}"}
    plan = plan_turn("is gm-2002 still frozen?", records=ctx.facts, id_patterns=["GM-\\d{4}"])
    assert [m for i in plan.intents for m in i.missing] == ["gm-2002"]
    assert not any("GM-2002" in f.text for f in ctx.facts)
    own = repo.context("A", "is gm-1001 active?")
    assert own is not None
    plan = plan_turn("is gm-1001 active?", records=own.facts, id_patterns=own.id_patterns.values())
    assert not any(i.missing for i in plan.intents)
    # the reply may name what the context holds, however written, and nothing else
    from tests.assistant.turn.test_realize import composed

    c = composed("is gm-1001 active?", facts=own.facts)
    shapes = list(own.id_patterns.values())
    assert foreign_identifiers(c, "Your membership gm-1001 is active.", shapes) == []
    assert foreign_identifiers(c, "GM-2002 is frozen; GM-1001 is active.", shapes) == ["GM-2002"]
    assert foreign_identifiers(c, "Visit V9 was logged.", shapes) == []


def test_a_path_or_placeholder_that_reads_nothing_in_any_item_is_a_mistake(tmp_path, engine):
    """A field path that no item of its kind holds is a typo, not data: `date: due_date` of
    items whose date is `due`, a link through `plan_id` of lines that name `plan`,
    `{plan.nme}` in a template (it imported, and read "plan (/month, GB)"). The import
    stops before anything is written, naming the file, the kind, the key and the fields
    the items do hold; a placeholder in brackets is optional and may read nothing. A
    status the rules name and no item is in is only worth a warning: none may be in it yet."""
    from profiles.models import CustomerRecord

    people = _write(tmp_path / "p.csv", "nr\nM-1\n")
    plans = _write(tmp_path / "plans.json", '{"basic": {"name": "Basic", "gb": 5}}')
    lines = _write(
        tmp_path / "l.csv",
        "id,member,plan,state,since,note\nL-1,M-1,basic,active,2024-01-01,\n"
        "L-2,M-1,basic,suspended,2024-02-01,moved\n",
    )
    good = (
        "customers: {file: p.csv, id: nr}\n"
        "reference: [{name: plan, file: plans.json, id: '@key', show: '{name}'}]\n"
        "records: [{kind: line, file: l.csv, id: id, customer: member, status: state,"
        " open: [porting], date: since, links: {plan: plan},"
        " show: 'Line {key}: {plan.name} ({plan.gb} GB), {status}[, note {note}]"
        "[ ({tracking})]'}]\n"
    )
    files = [people, plans, lines]
    for wrong, says, told in [
        ("date: since", "date: sincee", "date: 'sincee' reads nothing"),
        ("status: state", "status: stat", "status: 'stat' reads nothing"),
        ("links: {plan: plan}", "links: {plan: plan_id}", "links.plan: 'plan_id' reads nothing"),
        ("{plan.name}", "{plan.nme}", "show: {plan.nme} reads nothing"),
        ("{status}[, note {note}]", "{status}, note {notes}", "show: {notes} reads nothing"),
    ]:
        spec = _write(tmp_path / "m.yaml", good.replace(wrong, says))
        with pytest.raises(MappingError) as err:
            import_files(engine, load_mapping(spec), files)
        text = str(err.value)
        assert text.startswith(f"l.csv: line: {told} in any of its 2 items"), text
        if "plan." in says:
            assert "the plan items hold: name, gb" in text, text
        else:
            assert "they hold: id, member, plan, state, since, note" in text, text
    with Session(engine) as s:
        assert s.exec(select(CustomerRecord)).all() == []
    report = import_files(engine, load_mapping(_write(tmp_path / "m.yaml", good)), files)
    assert report.records == 2
    assert report.warnings == (
        "l.csv: line: no item is in 'porting' (open); check the spelling if some should be"
        " (they are in: active, suspended)",
    )
    with Session(engine) as s:
        texts = sorted(r.text for r in s.exec(select(CustomerRecord)))
    assert texts == [
        "Line L-1: Basic (5 GB), active",
        "Line L-2: Basic (5 GB), suspended, note moved",
    ]


def test_each_customer_s_consent_read_from_their_own_data(tmp_path, engine):
    """`consent: {field: …}`: what each customer chose, as their system writes it ("yes",
    "opted-in", "no", nothing); a field per purpose grants only the purposes it names. A
    re-import never grants again what they withdrew, but does withdraw what their own data
    now says they withdrew. A consent path no customer holds is a mistake in the mapping."""

    def granted(who: str) -> set[str]:
        with Session(engine) as s:
            rows = s.exec(select(Consent).where(Consent.customer_id == who)).all()
        return {c.purpose for c in rows if c.granted}

    people = _write(tmp_path / "c.csv", "id,ok,chat\nA,yes,opted-in\nB,no,yes\nC,,\n")
    every = _write(tmp_path / "m.yaml", "customers: {id: id, consent: {field: ok}}\n")
    import_files(engine, load_mapping(every), [people])
    assert granted("A") == {"personalization", "history", "analytics"}
    assert granted("B") == set() and granted("C") == set()
    # A withdraws in the business's own system; B's yes is not re-granted by an import
    _write(people, "id,ok,chat\nA,no,opted-in\nB,yes,yes\nC,,\n")
    import_files(engine, load_mapping(every), [people])
    assert granted("A") == set() and granted("B") == set()

    apart = _write(tmp_path / "m2.yaml", "customers: {id: id, consent: {personalization: chat}}\n")
    import_files(engine, load_mapping(apart), [_write(tmp_path / "d.csv", "id,chat\nD,Y\n")])
    assert granted("D") == {"personalization"}
    typo = _write(tmp_path / "m3.yaml", "customers: {id: id, consent: {field: okay}}\n")
    with pytest.raises(MappingError, match=r"c.csv: customers: consent: 'okay' reads nothing"):
        import_files(engine, load_mapping(typo), [people])
    both = _write(
        tmp_path / "m4.yaml", "customers: {id: id, consent: {field: ok, history: chat}}\n"
    )
    with pytest.raises(MappingError, match="not both"):
        load_mapping(both)


def test_a_kind_named_with_or_without_its_accents_is_named() -> None:
    """Customers type "linea" for "línea" and "tarjeta de credito" for "crédito": the
    kind's words name it either way, as "Straße" is "strasse"."""
    from profiles.context import record_facts
    from profiles.models import CustomerRecord

    line = CustomerRecord(
        customer_id="c", kind="line", key="L1", status="suspended", words=["line", "línea"]
    )
    card = CustomerRecord(
        customer_id="c", kind="card", key="K1", status="active", words=["tarjeta de crédito"]
    )
    for message, meant in (
        ("por que me cortaron la linea?", "record:line:L1"),
        ("¿por qué me cortaron la línea?", "record:line:L1"),
        ("mi tarjeta de credito no funciona", "record:card:K1"),
    ):
        facts = record_facts([line, card], message)
        best = max(facts, key=lambda f: f.relevance)
        assert best.id == meant and best.relevance >= 1, (message, facts)


def test_the_parts_of_the_record_an_action_is_asked_of_come_first_of_the_rest() -> None:
    """ "return everything in the one that was delivered": the return is asked of every
    order, the delivered one first; its lines, what a return is made of, come before the
    other orders' lines, though none is named."""
    from profiles.context import record_facts
    from profiles.models import CustomerRecord

    acts = {"return": {"en": ["return"]}, "cancel": {"en": ["cancel"]}}

    def order(key: str, status: str, allows: list[str]) -> CustomerRecord:
        return CustomerRecord(
            customer_id="c",
            kind="order",
            key=key,
            status=status,
            words=["order"],
            allows=allows,
            actions=acts,
        )

    def line(order_key: str, n: int, status: str, allows: list[str]) -> CustomerRecord:
        return CustomerRecord(
            customer_id="c",
            kind="order_line",
            key=f"{order_key}/{n}",
            status=status,
            words=["item"],
            allows=allows,
            actions=acts,
            links={"order": order_key},
        )

    rows = [
        order("#B22", "pending", ["cancel"]),
        line("#B22", 0, "pending", ["cancel"]),
        line("#B22", 1, "pending", ["cancel"]),
        order("#A11", "delivered", ["return"]),
        line("#A11", 0, "delivered", ["return"]),
        line("#A11", 1, "delivered", ["return"]),
    ]
    facts = {
        f.id: f.relevance
        for f in record_facts(rows, "i want to return everything in the one that was delivered")
    }
    assert facts["record:order:#A11"] > facts["record:order:#B22"] >= 1
    a_lines = [facts[f"record:order_line:#A11/{n}"] for n in (0, 1)]
    b_lines = [facts[f"record:order_line:#B22/{n}"] for n in (0, 1)]
    assert min(a_lines) > max(b_lines), facts
    assert max(a_lines) < 1  # not named themselves
