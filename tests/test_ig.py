"""integrated_gradients: agreement with captum, the trace, embedding IG, chunking, results, bad input, safety."""
import os

os.environ.setdefault("ATTRKIT_PROGRESS", "0")

import pytest
import torch
from captum.attr import IntegratedGradients, LayerIntegratedGradients
from torch import nn

from attrkit import baselines as B
from attrkit.ig import IGResult, integrated_gradients, path_points

torch.set_num_threads(1)
RULES = ["riemann_left", "riemann_right", "riemann_middle", "gausslegendre"]


def cnn(dtype=torch.float32, seed=0):
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(8 * 3 * 3, 16), nn.ReLU(), nn.Linear(16, 5))
    return m.to(dtype).eval()


def mlp(dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 12), nn.Softplus(), nn.Linear(12, 3)).to(dtype).eval()


class TinyTextCNN(nn.Module):
    """Embedding → Conv1d → ReLU → max over real tokens → Linear; the pad mask comes from the ids."""

    def __init__(self, vocab=30, dim=8):
        super().__init__()
        torch.manual_seed(0)
        self.embedding = nn.Embedding(vocab, dim, padding_idx=0)
        self.conv = nn.Conv1d(dim, 10, 3, padding=1)
        self.fc = nn.Linear(10, 2)

    def forward(self, ids):
        h = torch.relu(self.conv(self.embedding(ids).transpose(1, 2)))
        return self.fc(h.masked_fill((ids == 0)[:, None, :], 0).amax(2))


def images(n=3, dtype=torch.float32, seed=1):
    return torch.rand(n, 1, 12, 12, generator=torch.Generator().manual_seed(seed)).to(dtype)


def rel_err(a, b):
    return float((a - b).abs().max() / b.abs().max())


# ---- agreement with captum ---------------------------------------------------------------------------------

@pytest.mark.parametrize("method", RULES)
@pytest.mark.parametrize("kind", ["cnn", "mlp"])
def test_agrees_with_captum(method, kind):
    model, x = (cnn(), images()) if kind == "cnn" else (mlp(), torch.randn(4, 6, dtype=torch.float64))
    base = 0.1 * torch.ones_like(x[:1])
    res = integrated_gradients(model, x, target=1, baseline=base, steps=17, method=method)
    ref, delta = IntegratedGradients(model).attribute(x, baselines=base.expand_as(x), target=1, n_steps=17,
                                                      method=method, return_convergence_delta=True)
    assert rel_err(res.attributions, ref) < 1e-5
    torch.testing.assert_close(res.delta, delta.to(res.delta.dtype), rtol=1e-4, atol=1e-5 * float(ref.abs().max()))


@pytest.mark.parametrize("kind", ["cnn", "mlp"])
def test_trapezoid_is_captums_times_n_over_n_minus_1(kind):
    model, x = (cnn(), images()) if kind == "cnn" else (mlp(), torch.randn(4, 6, dtype=torch.float64))
    n = 20
    res = integrated_gradients(model, x, target=2, steps=n, method="riemann_trapezoid")
    ref = IntegratedGradients(model).attribute(x, target=2, n_steps=n, method="riemann_trapezoid")
    assert rel_err(res.attributions * (n - 1) / n, ref) < 1e-5


def test_probability_output_agrees_with_captum_on_a_softmax_model():
    model, x = cnn(), images()
    res = integrated_gradients(model, x, steps=16, method="gausslegendre", output="probability")
    ref = IntegratedGradients(nn.Sequential(model, nn.Softmax(-1))).attribute(x, target=res.target, n_steps=16)
    assert rel_err(res.attributions, ref) < 1e-5
    p = torch.softmax(model(x), -1)
    torch.testing.assert_close(res.score, p.gather(1, res.target[:, None])[:, 0].detach())


def test_embedding_ig_agrees_with_captum_layer_ig():
    model = TinyTextCNN().eval()
    ids = torch.tensor([[3, 5, 7, 2, 0, 0], [9, 1, 4, 4, 8, 6]])
    res = integrated_gradients(model, ids, layer=model.embedding, steps=24, method="gausslegendre")
    ref = LayerIntegratedGradients(model, model.embedding).attribute(ids, baselines=torch.zeros_like(ids),
                                                                       target=res.target, n_steps=24)
    assert res.attributions.shape == (2, 6, 8) and res.layer == "embedding"
    assert rel_err(res.attributions, ref) < 1e-5


# ---- targets, dtypes --------------------------------------------------------------------------------------------

def test_target_none_int_and_tensor():
    model, x = cnn(), images(4)
    pred = model(x).argmax(1)
    assert torch.equal(integrated_gradients(model, x, steps=4, record="none").target, pred)
    assert integrated_gradients(model, x, target=3, steps=4, record="none").target.tolist() == [3] * 4
    t = torch.tensor([0, 1, 2, 4])
    r = integrated_gradients(model, x, target=t, steps=4, record="none")
    torch.testing.assert_close(r.score, model(x).gather(1, t[:, None])[:, 0].detach())


def test_float64_model_and_inputs():
    res = integrated_gradients(cnn(torch.float64), images(dtype=torch.float64), steps=8)
    assert res.attributions.dtype == res.delta.dtype == res.trace.scores.dtype == torch.float64


# ---- the trace -------------------------------------------------------------------------------------------------

def test_full_trace_is_consistent_with_an_independent_recomputation():
    model, x = cnn(torch.float64), images(2, torch.float64)
    base = torch.rand_like(x)
    res = integrated_gradients(model, x, target=1, baseline=base, steps=6, method="riemann_middle")
    tr = res.trace
    assert tr.alphas.shape == tr.weights.shape == (6,)
    assert tr.scores.shape == tr.gaps.shape == tr.contributions.shape == (2, 6)
    assert tr.gradients.shape == tr.running.shape == (2, 6, 1, 12, 12)
    for k in (0, 3, 5):
        point = base + float(tr.alphas[k]) * (x - base)
        torch.testing.assert_close(res.points(k), point)
        leaf = point.clone().requires_grad_()
        f = model(leaf)[:, 1]
        (g,) = torch.autograd.grad(f.sum(), leaf)
        torch.testing.assert_close(tr.scores[:, k], f.detach())
        torch.testing.assert_close(tr.gradients[:, k], g)
    torch.testing.assert_close(res.path_points()[:, 4], res.points(4))
    torch.testing.assert_close(tr.running[:, -1], res.attributions)
    torch.testing.assert_close(tr.gaps[:, -1], res.delta)
    torch.testing.assert_close(tr.running.flatten(2).sum(2), tr.contributions.cumsum(1))
    change = res.score - res.baseline_score
    torch.testing.assert_close(tr.gaps, tr.contributions.cumsum(1) - change[:, None])
    torch.testing.assert_close(res.score, model(x)[:, 1].detach())
    torch.testing.assert_close(res.baseline_score, model(base)[:, 1].detach())


def test_record_scores_and_none_keep_less_and_give_the_same_answer():
    model, x = cnn(), images()
    full = integrated_gradients(model, x, steps=10)
    scores = integrated_gradients(model, x, steps=10, record="scores")
    none = integrated_gradients(model, x, steps=10, record="none")
    assert scores.trace.gradients is None and scores.trace.running is None
    torch.testing.assert_close(scores.trace.scores, full.trace.scores)
    torch.testing.assert_close(scores.trace.gaps, full.trace.gaps)
    assert none.trace.scores is None and none.trace.gaps is None and none.trace.alphas.shape == (10,)
    for r in (scores, none):
        torch.testing.assert_close(r.attributions, full.attributions)
        torch.testing.assert_close(r.delta, full.delta)


@pytest.mark.parametrize("method", ["riemann_trapezoid", "gausslegendre", "adaptive"])
def test_batch_size_chunking_gives_the_same_result(method):
    model, x = cnn(torch.float64), images(3, torch.float64)
    runs = [integrated_gradients(model, x, steps=13, method=method, batch_size=b, tol=0.05) for b in (None, 1, 4, 7, 100)]
    for r in runs[1:]:
        torch.testing.assert_close(r.attributions, runs[0].attributions, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(r.trace.scores, runs[0].trace.scores, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(r.trace.running, runs[0].trace.running, rtol=1e-12, atol=1e-12)


# ---- baselines with several samples (expected gradients) -----------------------------------------------------

def test_several_baselines_average_ig_over_them():
    model, x = cnn(torch.float64), images(2, torch.float64)
    data = torch.rand(5, 1, 12, 12, dtype=torch.float64)
    eg = B.FromData(data, samples=3, seed=7)
    drawn = eg(x)
    res = integrated_gradients(model, x, target=0, baseline=eg, steps=8, method="gausslegendre")
    singles = [integrated_gradients(model, x, target=0, baseline=drawn[j], steps=8, method="gausslegendre")
               for j in range(3)]
    torch.testing.assert_close(res.attributions, sum(s.attributions for s in singles) / 3)
    torch.testing.assert_close(res.baseline_score, sum(s.baseline_score for s in singles) / 3)
    assert res.samples == 3 and res.baseline.shape == (3, 2, 1, 12, 12)
    assert res.trace.scores.shape == (6, 8)  # rows j·N + n
    torch.testing.assert_close(res.trace.scores[2:4], singles[1].trace.scores)
    torch.testing.assert_close(res.delta, res.attributions.flatten(1).sum(1) - (res.score - res.baseline_score))


# ---- embedding IG ------------------------------------------------------------------------------------------

def test_embedding_ig_per_token_sums_and_pad_baseline():
    model = TinyTextCNN().eval()
    ids = torch.tensor([[3, 5, 7, 2, 0, 0], [9, 1, 4, 4, 8, 6]])
    res = integrated_gradients(model, ids, layer=model.embedding, steps=200, method="riemann_middle",
                               baseline=torch.zeros_like(ids))  # PAD ids, embedded through the layer
    assert res.baseline_name == "ids" and (res.baseline == 0).all()  # padding_idx embeds to zeros
    assert torch.equal(res.model_inputs, ids)
    per_token = res.per_token()
    assert per_token.shape == (2, 6) and (per_token[0, 4:] == 0).all()  # pads equal their baseline
    change = res.score - res.baseline_score
    assert ((per_token.sum(1) - change).abs() <= 0.01 * change.abs()).all()
    torch.testing.assert_close(res.score, model(ids).gather(1, res.target[:, None])[:, 0].detach())


def test_adaptive_embedding_ig_keeps_each_rows_tokens_with_its_own_grid():
    # the adaptive rule evaluates (row, α) pairs from different inputs in one batch: the layer's other inputs
    # (here the pad mask from the ids) must be those of each pair's own row
    model = TinyTextCNN().double().eval()
    ids = torch.tensor([[3, 5, 7, 2, 0, 0], [9, 1, 4, 4, 8, 6], [2, 2, 0, 0, 0, 0]])
    res = integrated_gradients(model, ids, layer=model.embedding, method="adaptive", steps=100, tol=1e-4,
                               baseline=torch.zeros_like(ids), batch_size=5)
    alone = [integrated_gradients(model, ids[b:b + 1], layer=model.embedding, method="adaptive", steps=100,
                                  tol=1e-4, baseline=torch.zeros_like(ids[b:b + 1])) for b in range(3)]
    assert res.refinement.converged
    for b, r in enumerate(alone):
        torch.testing.assert_close(res.trace.nodes(b)[0], r.trace.alphas[0], rtol=0, atol=0)
        torch.testing.assert_close(res.per_token()[b], r.per_token()[0], rtol=1e-10, atol=1e-12)


def test_zoo_textcnn_per_token_attributions_sum_to_the_score_change():
    from attrkit import zoo

    try:
        entry = zoo.load("tweets")
    except (FileNotFoundError, RuntimeError) as e:  # pragma: no cover - only without the shipped files
        pytest.skip(f"zoo tweets model not available: {e}")
    ids = entry.x_test[:4]
    res = integrated_gradients(entry.model, ids, layer=entry.model.embedding, steps=64, method="gausslegendre",
                               record="none")
    change = res.score - res.baseline_score
    gap = (res.per_token().sum(1) - change).abs()
    assert (gap <= 0.02 * change.abs() + 1e-4).all(), (gap, change)


# ---- results: save, load, numpy, HTML -----------------------------------------------------------------------

def test_save_load_numpy_and_html(tmp_path):
    res = integrated_gradients(cnn(), images(2), steps=40, method="adaptive", tol=0.05)
    path = tmp_path / "ig.npz"
    res.save(path)
    back = IGResult.load(path)
    torch.testing.assert_close(back.attributions, res.attributions)
    torch.testing.assert_close(back.trace.running, res.trace.running)
    assert back.method == "adaptive" and back.refinement.converged == res.refinement.converged
    torch.testing.assert_close(back.refinement.added, res.refinement.added)
    arrays = res.numpy()
    assert arrays["attributions"].shape == (2, 1, 12, 12) and arrays["trace"]["scores"].shape == (2, res.steps)
    html = res._repr_html_()
    assert "<img" in html and "delta" in html and "adaptive" in html
    assert len(repr(res)) < 200 and "IGResult" in repr(res)


def test_html_of_embedding_ig_shows_tokens():
    model = TinyTextCNN().eval()
    res = integrated_gradients(model, torch.tensor([[3, 5, 7]]), layer=model.embedding, steps=4)
    assert "output of embedding" in res._repr_html_()


# ---- bad input ---------------------------------------------------------------------------------------------

class NoClassDim(nn.Module):
    def forward(self, x):
        return x.sum(1)


class OneColumn(nn.Module):
    def forward(self, x):
        return x.sum(1, keepdim=True)


class Detached(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 3)

    def forward(self, x):
        return self.lin(x.detach())


class Argmax(nn.Module):
    def forward(self, x):
        return nn.functional.one_hot(x.argmax(1), 6).float() @ torch.ones(6, 3)


BAD = [
    (dict(inputs=torch.tensor(1.0)), ValueError, "inputs must be a non-empty batch"),
    (dict(inputs=torch.zeros(2, 5)), ValueError, "model failed on inputs of shape"),
    (dict(inputs=torch.zeros(2, 6, dtype=torch.long)), TypeError, "floating-point"),
    (dict(inputs=torch.zeros(2, 6, dtype=torch.bool)), TypeError, "floating-point"),
    (dict(inputs=torch.full((2, 6), float("nan"))), ValueError, "inputs contains NaN"),
    (dict(inputs=torch.full((2, 6), float("inf"))), ValueError, "inputs contains NaN or inf"),
    (dict(target=3), ValueError, "target has class id 3 out of range"),
    (dict(target=-1), ValueError, "out of range"),
    (dict(target=torch.tensor([0, 1, 2])), ValueError, r"target must be an int or have shape \(2,\)"),
    (dict(target=torch.tensor([0.0, 1.0])), TypeError, "target must hold integer class ids"),
    (dict(baseline=torch.full((6,), float("nan"))), ValueError, "baseline contains NaN"),
    (dict(baseline=torch.zeros(3, 6)), ValueError, "baseline of shape .* does not broadcast"),
    (dict(steps=0, method="gausslegendre"), ValueError, "steps must be ≥ 1"),
    (dict(steps=1, method="riemann_trapezoid"), ValueError, "steps must be ≥ 2"),
    (dict(steps=2, method="adaptive"), ValueError, "node budget"),
    (dict(steps=5.0), TypeError, "steps must be an int"),
    (dict(method="simpson"), ValueError, "method must be one of"),
    (dict(output="softmax"), ValueError, "output must be one of"),
    (dict(record="all"), ValueError, "record must be one of"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(layer=nn.Linear(6, 3)), ValueError, "layer must be a submodule"),
    (dict(progress="yes"), TypeError, "progress"),
    (dict(model=lambda x: x[:1].sum(1)), ValueError, r"one row per input, \(N, ...\) = \(2, ...\), got \(1,\)"),
    (dict(model=lambda x: {"scores": x}), TypeError, r"dict .*without 'logits'.*net\(x\)\['scores'\]"),
    (dict(model=OneColumn().eval(), output="probability"), ValueError, "needs class scores"),
    (dict(model=Detached().eval()), ValueError, "no gradient reaches the inputs"),
    (dict(model=Argmax().eval()), ValueError, "no gradient reaches"),
    (dict(model=42), TypeError, "model must be callable"),
    (dict(model=nn.Sequential(nn.Linear(6, 3), nn.Dropout()).train()), ValueError, r"training mode.*model.eval\(\)"),
]


@pytest.mark.parametrize("change, err, match", BAD, ids=[m for _, _, m in BAD])
def test_bad_input_raises_a_message_naming_the_argument(change, err, match):
    args = dict(model=mlp(torch.float32), inputs=torch.rand(2, 6), steps=4)
    args.update(change)
    with pytest.raises(err, match=match):
        integrated_gradients(**args)


def test_layer_mode_errors():
    model = TinyTextCNN().eval()
    ids = torch.tensor([[3, 5, 7]])
    with pytest.raises(ValueError, match="integer baseline"):
        integrated_gradients(model, ids, layer=model.embedding, baseline=torch.zeros(1, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="does not broadcast"):
        integrated_gradients(model, ids, layer=model.embedding, baseline=torch.zeros(5), baseline_in="layer")
    with pytest.raises(ValueError, match="baseline_in='layer'"):
        integrated_gradients(model, ids, layer=model.embedding, baseline=torch.zeros(5))

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4)
            self.fc = nn.Linear(4, 2)

        def forward(self, ids):
            return self.fc(self.emb(ids).mean(1) + self.emb(ids).mean(1))

    twice = Twice().eval()
    with pytest.raises(ValueError, match="layer ran 2 times"):
        integrated_gradients(twice, ids, layer=twice.emb)

    class DetachedEmbedding(TinyTextCNN):
        def forward(self, ids):
            e = self.embedding(ids).detach()
            return self.fc(torch.relu(self.conv(e.transpose(1, 2))).amax(2))

    with pytest.raises(ValueError, match="no gradient reaches the layer"):
        m = DetachedEmbedding().eval()
        integrated_gradients(m, ids, layer=m.embedding)


# ---- the model and the caller's tensors come back untouched --------------------------------------------------

def snapshot(model, *tensors):
    return ([(p.requires_grad, p.grad, p.detach().clone()) for p in model.parameters()],
            [m.training for m in model.modules()],
            [(dict(m._forward_hooks), dict(m._forward_pre_hooks), dict(m._backward_hooks)) for m in model.modules()],
            [(t.requires_grad, t.grad, t.detach().clone()) for t in tensors])


def assert_same(before, after):
    (p0, t0, h0, x0), (p1, t1, h1, x1) = before, after
    for (rg0, g0, v0), (rg1, g1, v1) in zip(p0 + x0, p1 + x1):
        assert rg0 == rg1 and g0 is g1 and torch.equal(v0, v1)
    assert t0 == t1
    assert [tuple(d.keys() for d in h) for h in h0] == [tuple(d.keys() for d in h) for h in h1]


class FailsOnCall(nn.Module):
    """A model that raises on its n-th forward pass: an error half-way through the path."""

    def __init__(self, inner, n):
        super().__init__()
        self.inner, self.n, self.calls = inner, n, 0

    def forward(self, x):
        self.calls += 1
        if self.calls == self.n:
            raise RuntimeError("boom on purpose")
        return self.inner(x)


def prepared_model(model):
    params = list(model.parameters())
    params[0].requires_grad_(False)  # a caller's mixed flags
    params[1].grad = torch.ones_like(params[1])  # and an existing .grad
    model.register_forward_hook(lambda m, i, o: None)
    return model


@pytest.mark.parametrize("record", ["full", "none"])
def test_state_is_restored_after_success(record):
    model = prepared_model(cnn())
    x = images(2).requires_grad_()
    base = torch.rand(1, 12, 12)
    before = snapshot(model, x, base)
    integrated_gradients(model, x, baseline=base, steps=6, batch_size=4, record=record)
    assert_same(before, snapshot(model, x, base))
    assert x.grad is None


@pytest.mark.parametrize("fail_on", [3, 5])
def test_state_is_restored_after_an_error_half_way(fail_on):
    model = FailsOnCall(prepared_model(cnn()), fail_on).eval()
    x, base = images(2), torch.rand(2, 1, 12, 12)
    before = snapshot(model, x, base)
    with pytest.raises(RuntimeError, match="boom on purpose"):
        integrated_gradients(model, x, baseline=base, steps=8, batch_size=4)  # 4 chunks after 2 probe passes
    assert model.calls == fail_on
    assert_same(before, snapshot(model, x, base))


@pytest.mark.parametrize("fail", [False, True])
def test_state_is_restored_with_layer_hooks(fail):
    model = prepared_model(TinyTextCNN()).eval()
    calls = []
    model.embedding.register_forward_hook(lambda m, i, o: calls.append(1))  # the caller's own layer hook
    ids = torch.tensor([[3, 5, 7, 2], [1, 1, 4, 0]])
    before = snapshot(model, ids)
    if fail:
        model.conv.register_forward_pre_hook(lambda m, i: (_ for _ in ()).throw(RuntimeError("boom")) if len(calls) > 3
                                             else None)
        before = snapshot(model, ids)
        with pytest.raises(RuntimeError, match="boom"):
            integrated_gradients(model, ids, layer=model.embedding, steps=6, batch_size=2)
    else:
        integrated_gradients(model, ids, layer=model.embedding, steps=6, batch_size=2)
    assert_same(before, snapshot(model, ids))
    assert len(model.embedding._forward_hooks) == 1  # ours is gone, the caller's stays


# ---- the building blocks and the progress bar -------------------------------------------------------------------

def test_building_blocks_compose_to_eq_3():
    from attrkit.ig import integral_approximation, path_gradients
    from attrkit.ig.quadrature import quadrature

    model, x = cnn(torch.float64), images(2, torch.float64)
    start = torch.zeros_like(x)
    alphas, weights = quadrature("riemann_middle", 5)
    pts = path_points(start, x, alphas)
    assert pts.shape == (5, 2, 1, 12, 12)
    torch.testing.assert_close(pts[2], alphas[2] * x)
    target = torch.tensor([1, 3])
    chunks = list(path_gradients(model, start, x, alphas, target, "logit", batch_size=4))
    assert [(k0, k1) for k0, k1, _, _ in chunks] == [(0, 2), (2, 4), (4, 5)]  # 4 // 2 rows = 2 nodes a chunk
    grads = torch.cat([g for *_, g in chunks])
    attributions = (x - start) * integral_approximation(grads, weights)
    res = integrated_gradients(model, x, target=target, steps=5, method="riemann_middle")
    torch.testing.assert_close(attributions, res.attributions)
    assert "IG trace: 5 nodes" in res.trace._repr_html_() and "gap after" in res.trace._repr_html_()


def test_progress_bar_on_request(monkeypatch, capsys):
    monkeypatch.delenv("ATTRKIT_PROGRESS", raising=False)
    integrated_gradients(cnn(), images(1), steps=4, progress=True)
    assert "IG" in capsys.readouterr().err
    integrated_gradients(cnn(), images(1), steps=4, progress=False)
    assert capsys.readouterr().err == ""
