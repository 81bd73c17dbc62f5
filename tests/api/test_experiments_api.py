"""Experiment reports over real turns and feedback through the admin API."""

from assistant.experiments import Experiments
from assistant.types import TurnRequest
from profiles.conversations import FeedbackStore
from profiles.experiments import SIMULATED
from tests.api.conftest import ADMIN_KEY

ADMIN = {"X-API-Key": ADMIN_KEY}


def test_report_from_real_turns_through_the_admin_api(make_client, tmp_path):
    spec = tmp_path / "experiments.yaml"
    spec.write_text(
        "experiments:\n  - id: depth\n    variants:\n"
        "      - {name: control, weight: 1}\n      - {name: kb3, weight: 1, kb_top_k: 3}\n"
    )
    client = make_client(experiments_file=spec)
    container = client.app.state.services.container
    assistant = container.assistant
    customers = ["olivia_ito_3591", "omar_lopez_3107", "isabella_brown_3584", "james_kim_7213"]
    store = FeedbackStore(container.engine)
    for i, cid in enumerate(customers):
        r = assistant.turn(TurnRequest(customer_id=cid, message="How do returns work?"))
        store.add(r.turn_id, 5 - i, i % 2 == 0, SIMULATED if i == 0 else None)
    res = client.get("/v1/admin/experiments/depth/report", headers=ADMIN)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["simulated"] is True
    assert sum(v["turns"] for v in body["variants"]) == 4
    expected = Experiments.load(spec).get("depth")
    by_variant = {v["variant"]: v["turns"] for v in body["variants"]}
    for cid in customers:
        assert by_variant[expected.assign(cid).name] >= 1
    assert client.get("/v1/admin/experiments/nope/report", headers=ADMIN).status_code == 404
    assert client.get("/v1/admin/experiments/depth/report").status_code in (401, 403)
    listed = client.get("/v1/admin/experiments", headers=ADMIN).json()
    assert listed == [
        {
            "id": "depth",
            "description": "",
            "enabled": True,
            "variants": {"control": 1.0, "kb3": 1.0},
        }
    ]
