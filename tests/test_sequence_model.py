"""The negation-scope tagger of notebook 08 (attrkit.zoo.sequence): the shipped weights load safely, the model solves
its planted rule, IG on one output position is complete, and retraining reproduces the shipped tensors."""
import importlib.util
import json
import time
from pathlib import Path

import pytest
import torch

from attrkit import integrated_gradients
from attrkit.zoo import sequence

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def task():
    return sequence.load()


def test_shipped_files_are_tensors_only(task):
    state = torch.load(sequence.folder() / "tagger.pt", map_location="cpu", weights_only=True)
    assert set(state) == set(task.model.state_dict())
    assert all(isinstance(v, torch.Tensor) and v.dtype == torch.float16 for v in state.values())
    config = sequence.read_config()
    assert config["vocab"] == list(sequence.WORDS) and config["window"] == sequence.WINDOW


def test_the_rule_itself():
    ids = torch.tensor([[sequence.WORDS.index(w) for w in "not the film was good not".split()]])
    assert sequence.tags(ids).tolist() == [[0, 1, 1, 1, 0, 0]]  # a 'not' tags the 3 positions after it, not itself
    causes = sequence.alignment(ids)[0]
    assert causes.nonzero().tolist() == [[1, 0], [2, 0], [3, 0]]
    again = sequence.sentences(7, seed=3)
    assert torch.equal(again, sequence.sentences(7, seed=3)) and sequence.PAD not in again  # never <pad>


def test_the_model_solves_its_rule(task):
    with torch.no_grad():
        predicted = task.model(task.x_test).argmax(1)
    accuracy = (predicted == task.y_test).double().mean().item()
    assert accuracy >= 0.99, accuracy
    assert 0.2 < task.y_test.double().mean().item() < 0.5  # both tags are common: accuracy is not a base rate
    shipped = sequence.read_config()["test"]["token_accuracy"]
    assert accuracy == pytest.approx(shipped, abs=1e-3)


def test_ig_on_a_position_target_is_complete_and_finds_the_not(task):
    ids = task.encode("the film was not very good")
    t = 5  # 'good': the 'not' at position 3 is two tokens back, so the rule tags it NEG
    res = integrated_gradients(task.model, ids, target=(sequence.NEG, t), layer=task.model.embedding, steps=64,
                               method="gausslegendre", progress=False)
    per_token = res.per_token()[0]
    change = (res.score - res.baseline_score).item()
    assert abs(per_token.sum().item() - change) <= 0.01 * abs(change)  # completeness (IG paper, Prop. 1)
    assert per_token.argmax().item() == 3
    with torch.no_grad():
        assert task.model(ids)[0, :, t].argmax().item() == sequence.NEG


def test_zero_baseline_is_pad(task):
    """baseline=None (ids of <pad>) and the zero embedding are the same starting point of the path."""
    ids = task.encode("not a bad plot")
    kw = dict(target=(sequence.NEG, 2), layer=task.model.embedding, steps=16, progress=False)
    a = integrated_gradients(task.model, ids, **kw).attributions
    b = integrated_gradients(task.model, ids, baseline_in="layer", **kw).attributions
    assert torch.equal(a, b)


def test_retraining_reproduces_the_shipped_tensors():
    spec = importlib.util.spec_from_file_location("train_sequence", ROOT / "scripts" / "train_sequence.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    start = time.perf_counter()
    try:
        state = script.train()
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    seconds = time.perf_counter() - start
    shipped = torch.load(ROOT / "data" / "sequence" / "tagger.pt", map_location="cpu", weights_only=True)
    assert state.keys() == shipped.keys()
    different = [k for k in state if not torch.equal(state[k], shipped[k])]
    assert not different, f"retrained tensors differ from data/sequence/tagger.pt: {different}"
    assert json.loads((ROOT / "data" / "sequence" / "config.json").read_text()) == script.config(state)
    assert seconds < 20, f"training took {seconds:.0f} s; mark this test slow"
