"""Code exercises for notebooks 02–06 (issue 18, item 2), as cells ready to insert: ``CELLS[notebook]`` is a list
of nbformat-4 cell dicts (``nbformat.from_dict(cell)``); ``WHERE[notebook]`` says where they go.

Each exercise is self-contained (it loads what it needs through the public API, so it does not depend on the
variables of the cells around it), has a student cell with ``...`` placeholders, a check cell that uses
``attrkit.exercise.check_function`` (or ``check``) and never shows the answer, and a solution cell in the
course's scheme (markdown, tagged ``solution``, source hidden, ``<details>``). ``SOLUTIONS[notebook]`` holds the
solution code again, so that tests/test_exercises_to_insert.py can run each check with the solution (it must
pass), with typical wrong answers (they must fail) and as committed (it must ask for the ``...``).
"""


def _md(source, tags=None):
    meta = {"tags": tags} if tags else {}
    if tags and "solution" in tags:
        meta["jupyter"] = {"source_hidden": True}
    return {"cell_type": "markdown", "metadata": meta, "source": source.strip("\n")}


def _code(source, tags=None):
    return {"cell_type": "code", "metadata": {"tags": tags} if tags else {}, "source": source.strip("\n"),
            "outputs": [], "execution_count": None}


def _solution(text):
    return _md("<details><summary><b>Solution (instructors)</b></summary>\n\n" + text.strip("\n") + "\n\n</details>",
               ["solution"])


SOLUTIONS = {
    "02_axioms": '''
def completeness_gap(method, model, x, baseline):
    attributions = method(model, x, toys.TARGET, baseline)
    change = toys.f_of(model, x) - toys.f_of(model, baseline)
    return (attributions.sum(1) - change) / change.abs()


def my_method(model, inputs, target=None, baseline=None):
    # gradient × (x − x′) at the midpoint of the path: one gradient instead of IG's many
    x, t, b = methods.prepare(model, inputs, target, baseline)
    return (x - b) * methods.target_gradient(model, (x + b) / 2, t)
''',
    "03_integrated_gradients": '''
def my_path_points(x_base, x, alphas):
    return x_base + alphas.view(-1, *[1] * x.dim()) * (x - x_base)


def my_weighted_sum(gradients, weights):
    return (weights.view(-1, *[1] * (gradients.dim() - 1)) * gradients).sum(0)


def my_ig(model, x, x_base, target, m):
    alphas, weights = (t.to(x.dtype) for t in quadrature("riemann_trapezoid", m))  # float64 → the model's float32
    points = my_path_points(x_base, x, alphas)
    _, gradients = ig.gradients_at(model, points.flatten(0, 1).to(x), torch.full((m * len(x),), target), "logit")
    gradients = gradients.view(points.shape)     # one row per path point → (m, N, ...) again
    return (x - x_base) * my_weighted_sum(gradients, weights)
''',
    "03_integrated_gradients/bug": '''
def fixed_ig(model, x, x_base, target, m_steps=50, batch_size=32):
    alphas = torch.linspace(0, 1, m_steps + 1)
    gradient_batches = []
    for start in range(0, len(alphas), batch_size):
        alpha_batch = alphas[start:start + batch_size]
        points = ig.path_points(x_base, x, alpha_batch).reshape(-1, *x.shape[1:])
        _, gradient_batch = ig.gradients_at(model, points, torch.full((len(alpha_batch),), target), "probability")
        gradient_batches.append(gradient_batch)
    total_gradients = torch.cat(gradient_batches)     # every batch, not only the last one
    average = ((total_gradients[:-1] + total_gradients[1:]) / 2).mean(0)
    return (x - x_base) * average
''',
    "04_baselines": '''
def my_max_distance(x):
    return torch.where(x < 0.5, torch.ones_like(x), torch.zeros_like(x))


my_blind_share = 0.0   # every baseline pixel is at least 0.5 away from the input's
''',
    "05_agi": '''
def my_agi_step(x, grad_j, grad_i, epsilon):
    x_next = (x + epsilon * grad_j.sign()).clamp(0, 1)
    contribution = -grad_i * (x_next - x)
    return x_next, contribution
''',
    "06_evaluation": '''
def my_deletion_scores(model, image, saliency, target, pixels_per_step):
    order = torch.argsort(saliency.flatten(), descending=True, stable=True)
    current = image.clone()
    scores = []
    with torch.no_grad():
        scores.append(model(current).softmax(1)[0, target].item())
        for start in range(0, order.numel(), pixels_per_step):
            current.view(-1)[order[start:start + pixels_per_step]] = 0.0
            scores.append(model(current).softmax(1)[0, target].item())
    return torch.tensor(scores)
''',
}

WHERE = {
    "02_axioms": "at the end of §4 (completeness), after the AGI completeness cell and before §5 (linearity)",
    "03_integrated_gradients": "exercise A after step 5 (the map by hand), before the comparison with the library; "
                               "exercise B right after the completeness check's solution",
    "04_baselines": "after the baseline menu / playground, before expected gradients",
    "05_agi": "after the adversarial walk by hand (Algorithm 1), before the individual AGI as a path integral",
    "06_evaluation": "after the toy deletion exercise, before the protocol section",
}

CELLS = {
    # ---- 02: an axiom check, run on a method of the student's own ---------------------------------------------
    "02_axioms": [
        _md(r"""
### Exercise · write an axiom check, and run it on a method of your own

Every check in `attrkit.axioms` is a small experiment: a model, an input, a baseline and a number to compare.
Write one yourself. `completeness_gap(method, model, x, baseline)` runs `method(model, x, toys.TARGET, baseline)`
and returns, for every row of `x`, the gap $\big(\sum_i A_i - (F(x) - F(x'))\big) / |F(x) - F(x')|$, signed
(`toys.f_of(model, x)` gives $F$ row by row). Then invent an attribution method of your own in `my_method`
(any idea: a gradient at one point of the path, a cheaper IG, ...) and let your check and the kit's judge it.
"""),
        _code(r"""
def completeness_gap(method, model, x, baseline):
    attributions = ...   # (N, d)
    change = ...         # F(x) − F(x′), one number per row
    return ...           # the signed relative gap, one number per row


def my_method(model, inputs, target=None, baseline=None):
    # your own attribution method; methods.prepare and methods.target_gradient (used in §4 above) help
    return ...
"""),
        _code(r"""
from attrkit import axioms, methods, toys
from attrkit.exercise import check_function, references

net = toys.random_net(4, (8,), "tanh", seed=3)
xs = torch.tensor([[0.2, 0.9, 0.4, 0.7], [1.5, -0.5, 0.3, 1.0]], dtype=torch.float64)
F_net, _ = toys.relu_pair()
cases = [(methods.gradient_x_input, net, xs, torch.zeros_like(xs)),
         (methods.integrated_gradients, net, xs, torch.full_like(xs, 0.5)),
         (methods.smoothgrad, net, xs, torch.zeros_like(xs)),
         (methods.gradient_x_input, F_net, toys.point(3.0, 1.0), toys.point(0.0, 0.0)),
         (methods.gradient_x_input, net, torch.zeros_like(xs), xs),    # input and baseline swapped: F falls
         (methods.gradient_x_input, net, -xs, torch.zeros_like(xs))]   # f < 0: the predicted class is not TARGET
_ = check_function(completeness_gap, references.completeness_gap, cases, name="completeness_gap",
                   hint="F(x) − F(x′) is toys.f_of(model, x) − toys.f_of(model, baseline); divide by its "
                        "absolute value, and keep the sign of the gap")
"""),
        _code(r"""
if my_method(net, xs, toys.TARGET, torch.zeros_like(xs)) is ...:
    print("✏️ write my_method above, run its cell, then run this cell again")
else:
    print("your check, on your method (random tanh net, the 2 inputs xs, baseline 0):",
          show(completeness_gap(my_method, net, xs, torch.zeros_like(xs))))
    print("the kit's checks, on their own cases:")
    display(axioms.check_completeness(my_method))
    display(axioms.check_dummy(my_method))
    display(axioms.check_symmetry(my_method))
""", ["nbval-ignore-output"]),
        _solution(r"""
```python
def completeness_gap(method, model, x, baseline):
    attributions = method(model, x, toys.TARGET, baseline)
    change = toys.f_of(model, x) - toys.f_of(model, baseline)
    return (attributions.sum(1) - change) / change.abs()
```

Typical mistakes the check rejects: the absolute gap (not divided by $|F(x) - F(x')|$), $F(x)$ alone instead of
the change (wrong whenever $F(x') \neq 0$: the second case uses a baseline of 0.5), `abs()` of the gap (the
sign says whether a method over- or under-counts), dividing by the signed change instead of its absolute value
(the fifth case swaps input and baseline, so $F$ falls and the sign of the gap would flip), and calling the method
without `toys.TARGET` (in the sixth case $f < 0$, so the predicted class is the other column).

One method of your own, for example: gradient × $(x - x')$ at the midpoint of the path, one gradient instead of
IG's many:

```python
def my_method(model, inputs, target=None, baseline=None):
    x, t, b = methods.prepare(model, inputs, target, baseline)
    return (x - b) * methods.target_gradient(model, (x + b) / 2, t)
```

It is IG with a one-node midpoint rule: exact for a quadratic $F$, but the kit's completeness check fails it
badly, because on the paper's $F$ at $(3, 1)$ the midpoint $(1.5, 0.5)$ sits where $F$ is flat: it gives 0 for a
change of 1 (sensitivity (a) fails for the same reason). It keeps dummy (a zero gradient gives zero) and symmetry
(the path is still the straight line). Whatever you wrote, ask which axiom it should break *before* you run the checks.
"""),
    ],

    # ---- 03 A: IG's terms -----------------------------------------------------------------------------------------
    "03_integrated_gradients": [
        _md(r"""
### Exercise A · write IG's terms yourself

Above, `ig.path_points`, `ig.integral_approximation` and the product with $x - x'$ did the work. Now write them:

1. `my_path_points(x_base, x, alphas)`: $\gamma(\alpha_k) = x' + \alpha_k (x - x')$ for every $\alpha_k$, shape
   `(m, *x.shape)` (hint: give `alphas` as many trailing dimensions of size 1 as `x` has);
2. `my_weighted_sum(gradients, weights)`: $\sum_k w_k \nabla F(\gamma(\alpha_k))$ for gradients `(m, N, ...)` and
   weights `(m,)`, shape `(N, ...)`;
3. `my_ig(model, x, x_base, target, m)`: IG with the trapezoid rule and `m` nodes, from your two functions and
   the factor $x - x'$. The template already sends *your* path points through the model: `ig.gradients_at`
   takes one point per row, so the points `(m, N, ...)` are flattened to `(m·N, ...)` and the gradients shaped
   back. You write the last line.

`quadrature` returns float64 nodes and weights, while the model, the images and the gradients are float32:
`my_ig` converts the nodes and weights (and your points, should they come out float64) to the images' dtype,
and the checks hand your functions float32 nodes and weights, so you need not think about dtypes.

Each check runs your function and the library's on a few inputs (the digit of this notebook, random images,
a grey baseline) and compares the outputs: any correct way of writing it passes.
"""),
        _code(r"""
def my_path_points(x_base, x, alphas):
    return ...


def my_weighted_sum(gradients, weights):
    return ...


def my_ig(model, x, x_base, target, m):
    alphas, weights = (t.to(x.dtype) for t in quadrature("riemann_trapezoid", m))  # float64 → the model's float32
    points = my_path_points(x_base, x, alphas)
    _, gradients = ig.gradients_at(model, points.flatten(0, 1).to(x), torch.full((m * len(x),), target), "logit")
    gradients = gradients.view(points.shape)     # one row per path point → (m, N, ...) again
    return ...
"""),
        _code(r"""
from attrkit import ig, integrated_gradients, quadrature, zoo
from attrkit.exercise import check_function

mnist_model = zoo.load("mnist").model
digit = zoo.load("mnist").x_test[7:8]
grey = torch.full_like(digit, 0.5)
noise = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
nodes = lambda rule, m: quadrature(rule, m)[0].float()      # float32, like the images and the gradients
weights = lambda rule, m: quadrature(rule, m)[1].float()
_ = check_function(my_path_points, ig.path_points,
                   [(torch.zeros_like(digit), digit, nodes("riemann_right", 4)),
                    (grey, noise[:2], nodes("gausslegendre", 5))], name="path points")
_ = check_function(my_weighted_sum, ig.integral_approximation,
                   [(torch.randn(8, 2, 1, 28, 28, generator=torch.Generator().manual_seed(1)),
                     weights("riemann_trapezoid", 8)),
                    (torch.randn(5, 3, 4, generator=torch.Generator().manual_seed(2)), weights("gausslegendre", 5))],
                   name="weighted sum")
_ = check_function(my_ig, lambda model, x, x_base, target, m: integrated_gradients(
                       model, x, target=target, baseline=x_base, steps=m, method="riemann_trapezoid",
                       record="none", progress=False).attributions,
                   [(mnist_model, digit, torch.zeros_like(digit), 6, 16), (mnist_model, noise[:1], grey, 3, 8)],
                   name="IG by hand", hint="three terms: nodes and weights, path points, weighted sum; "
                                           "then multiply by x − x′ (not by x: the second case has a grey baseline)")
"""),
        _solution(r"""
```python
def my_path_points(x_base, x, alphas):
    return x_base + alphas.view(-1, *[1] * x.dim()) * (x - x_base)


def my_weighted_sum(gradients, weights):
    return (weights.view(-1, *[1] * (gradients.dim() - 1)) * gradients).sum(0)


def my_ig(model, x, x_base, target, m):
    alphas, weights = (t.to(x.dtype) for t in quadrature("riemann_trapezoid", m))  # float64 → the model's float32
    points = my_path_points(x_base, x, alphas)
    _, gradients = ig.gradients_at(model, points.flatten(0, 1).to(x), torch.full((m * len(x),), target), "logit")
    gradients = gradients.view(points.shape)     # one row per path point → (m, N, ...) again
    return (x - x_base) * my_weighted_sum(gradients, weights)
```

Equally right: `alphas[:, None, None, None, None]`, a list comprehension with `torch.stack`,
`torch.tensordot(weights, gradients, dims=1)` or `torch.einsum("k,k...->...", weights, gradients)`. Typical
wrong answers, rejected: the path walked from $x$ to $x'$ (`x + alphas * (x_base - x)`), `gradients.mean(0)`
(the trapezoid's end weights are halved, so a plain mean is a different rule), and multiplying by `x` instead of
`x - x_base` (equal only for the black baseline; the grey case catches it). The reversed path fails only the
path-points check: inside `my_ig` it visits the same points in the opposite order, and the trapezoid rule gives
$\alpha$ and $1 - \alpha$ the same weight, so the map is the same. A path point that misses the baseline
(`alphas * (x - x_base)`) fails `my_ig` too, on the grey case.
"""),
        # ---- 03 B: find the bug ---------------------------------------------------------------------------------
        _md(r"""
### Exercise B · find the bug that only completeness sees

Until 2022, the TensorFlow IG tutorial computed the gradients in batches, collected them in a list, and then
stacked `gradient_batch` (the last batch) instead of `gradient_batches` (all of them): IG was computed from the
last part of the path only (fixed in tensorflow/docs PR #2039). Below is that code, ported to PyTorch line by
line, with the tutorial's settings (50 steps, batches of 32, the trapezoid average, and the softmax *probability*
as the explained output, as in the tutorial). Run it: the map looks like an attribution map. Then run the completeness check on it, find the bug, and write the repaired version as
`fixed_ig`.
"""),
        _code(r"""
from attrkit import ig, integrated_gradients, viz, zoo
from attrkit.exercise import check, check_function


def buggy_ig(model, x, x_base, target, m_steps=50, batch_size=32):
    alphas = torch.linspace(0, 1, m_steps + 1)
    gradient_batches = []
    for start in range(0, len(alphas), batch_size):
        alpha_batch = alphas[start:start + batch_size]
        points = ig.path_points(x_base, x, alpha_batch).reshape(-1, *x.shape[1:])
        _, gradient_batch = ig.gradients_at(model, points, torch.full((len(alpha_batch),), target), "probability")
        gradient_batches.append(gradient_batch)
    total_gradients = torch.stack(tuple(gradient_batch))
    average = ((total_gradients[:-1] + total_gradients[1:]) / 2).mean(0)   # the trapezoid rule
    return (x - x_base) * average


mnist_model = zoo.load("mnist").model
digit = zoo.load("mnist").x_test[7:8]
black = torch.zeros_like(digit)
with torch.no_grad():
    digit_class = int(mnist_model(digit).argmax(1))
suspect = buggy_ig(mnist_model, digit, black, digit_class)
viz.heatmap(suspect[0, 0], title="buggy_ig: looks like an attribution map")
"""),
        _code(r"""
my_share = ...   # predict first: what fraction of p(x) − p(x′), the change of the probability (not of the logit
                 # F above), will buggy_ig's attributions add up to?

with torch.no_grad():
    p_digit, p_black = mnist_model(digit).softmax(1), mnist_model(black).softmax(1)
    digit_change = (p_digit[0, digit_class] - p_black[0, digit_class]).item()
_ = check(my_share, lambda: suspect.sum().item() / digit_change, tol=0.02, rel=0, name="share accounted for by buggy_ig",
          hint="which part of the path do the gradients in total_gradients come from? The rest of the change is "
               "not accounted for")
"""),
        _code(r"""
def fixed_ig(model, x, x_base, target, m_steps=50, batch_size=32):
    ...   # copy buggy_ig here and repair it


_ = check_function(fixed_ig, lambda model, x, x_base, target: integrated_gradients(
                       model, x, target=target, baseline=x_base, steps=51, method="riemann_trapezoid",
                       output="probability", record="none", progress=False).attributions,
                   [(mnist_model, digit, black, digit_class), (mnist_model, zoo.load("mnist").x_test[0:1], black, 3)],
                   name="fixed_ig", hint="compare the lengths: how many gradients reach total_gradients, and how "
                                         "many path points were there?")
"""),
        _solution(r"""
The share is close to **0**, not 1: only the gradients of the last batch, the 19 nodes from $\alpha = 0.64$ to 1,
are averaged. There the probability has already saturated, so its gradient is tiny, and almost nothing of the
change $p(x) - p(x')$ is accounted for. (Exactly: `.mean(0)` over the last batch's 18 intervals is the average
gradient on $\alpha \in [0.64, 1]$, so the sum is that stretch's change divided by its length 0.36.) The map
still *looks* like a map (each map has its own colour scale); only completeness, which compares the sum with
$p(x) - p(x')$, sees that most of the path is missing. (On this
model's *logit*, whose gradient is nearly constant along the path, the same bug accounts for about 100 % of the
change and hides: check completeness on the output you explain.) The fix is one name:

```python
    total_gradients = torch.cat(gradient_batches)     # every batch, not only the last one
```

(`torch.cat(gradient_batches)` or `torch.stack([g for b in gradient_batches for g in b])` both work.) Tempting but
wrong: `torch.stack(gradient_batches)` (the batches have different lengths, 32 and 19: an error), or dropping the
trapezoid average for a plain mean (a different rule: the check compares with the trapezoid).
"""),
    ],

    # ---- 04: a baseline of the student's own ----------------------------------------------------------------
    "04_baselines": [
        _md(r"""
### Exercise · write a baseline yourself

A baseline is just a tensor of the input's shape. Write the **max-distance** baseline of the Distill article
(Sturmfels, Lundberg & Lee 2020): for every pixel, the valid value farthest from it, 1 where the pixel is below
0.5 and 0 otherwise. Before running the check: what fraction of the digit's pixels is this baseline blind to?
"""),
        _code(r"""
def my_max_distance(x):
    return ...   # a tensor of x's shape


my_blind_share = ...   # a number: the fraction of pixels where x′ = x
"""),
        _code(r"""
from attrkit import baselines, integrated_gradients, viz, zoo
from attrkit.exercise import check, check_function

mnist = zoo.load("mnist")
digits = mnist.x_test[:3]
_ = check_function(my_max_distance, lambda x: baselines.MaxDistance()(x)[0],
                   [(digits[:1],), (digits,), (torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(0)),)],
                   name="max-distance baseline", hint="torch.where(condition, value_if_true, value_if_false)")
_ = check(my_blind_share, lambda: (baselines.MaxDistance()(digits[:1])[0] == digits[:1]).float().mean().item(),
          tol=0.01, name="share of pixels the max-distance baseline is blind to")
"""),
        _solution(r"""
```python
def my_max_distance(x):
    return torch.where(x < 0.5, torch.ones_like(x), torch.zeros_like(x))


my_blind_share = 0.0   # every baseline pixel is at least 0.5 away from the input's
```

`(x < 0.5).float()` or `1.0 * (x < 0.5)` work too. Tempting but wrong: `1 - x` (the inverted image: only black
and white pixels get the farthest value) and the condition the wrong way round (that baseline is the *nearest*
extreme, almost the input itself). The blind share is **0**: every pixel of the baseline is at least 0.5 away
from the input, so no feature is ever multiplied by $x_i - x'_i = 0$. That is the point of the baseline in the
Distill article, and its weakness: it is far from "no information" (the model sees a strange negative digit).
"""),
        _md(r"""
**Now a baseline of your own.** Write any baseline you find defensible in `my_own_baseline` (a blurred digit, the
mean training image, a mix, ...) and read what the kit measures about it: the prediction at $x'$ and its entropy
(the IG authors' howto asks for a near-uniform prediction), the completeness delta, and the share of blind
pixels, on the notebook's 9. There is no single right answer; defend yours.
"""),
        _code(r"""
from IPython.display import display


def my_own_baseline(x):
    return ...   # a tensor of x's shape, values in [0, 1]


digit, digit_class = mnist.x_test[14:15], int(mnist.y_test[14])   # the notebook's 9
if my_own_baseline(digit) is ...:
    print("✏️ write my_own_baseline above, then run this cell again")
else:
    x_prime = my_own_baseline(digit)
    with torch.no_grad():
        p = mnist.model(x_prime).softmax(1)[0]
    own_entropy = -(p * p.clamp_min(1e-12).log()).sum().item()
    res = integrated_gradients(mnist.model, digit, target=digit_class, baseline=x_prime, steps=64, record="none",
                               progress=False)
    print(f"prediction at x′: class {int(p.argmax())} with p = {p.max():.2f}; entropy {own_entropy:.2f} nats "
          f"(at most ln 10 = 2.30)")
    print(f"completeness delta {res.relative_delta.item():.2%}; blind pixels (x′ = x exactly) "
          f"{(x_prime == digit).float().mean().item():.0%}")
    display(viz.heatmap(res.attributions[0], title=f"IG of class {digit_class} from your baseline"))
""", ["nbval-ignore-output"]),
    ],

    # ---- 05: one AGI step --------------------------------------------------------------------------------------
    "05_agi": [
        _md(r"""
### Exercise · write one step of the adversarial walk

One step of Algorithm 1 in the paper's form (the reconstruction this notebook uses, see above): move every pixel
by $\varepsilon$ in the direction of the sign of $\nabla f_j$ (the false class's gradient), keep the image in
$[0, 1]$, and book the contribution $-\nabla f_i \odot (x_{t+1} - x_t)$ of this step for the true class $i$. Write
`my_agi_step(x, grad_j, grad_i, epsilon)` returning `(x_next, contribution)`. The check compares it with
`agi.adversarial_step` on real gradients of the MNIST model.
"""),
        _code(r"""
def my_agi_step(x, grad_j, grad_i, epsilon):
    x_next = ...         # x + ε·sign(∇f_j), clipped to [0, 1]
    contribution = ...   # −∇f_i ⊙ (x_next − x)
    return x_next, contribution
"""),
        _code(r"""
from attrkit import ig, zoo
from attrkit.agi import adversarial_step
from attrkit.exercise import check_function

mnist = zoo.load("mnist")
cases = []
for index, false_class in [(14, 4), (0, 5)]:   # p(true) 0.87, 0.80: contributions above tol
    x0 = mnist.x_test[index:index + 1]
    with torch.no_grad():
        true_class = int(mnist.model(x0).argmax(1))
    _, grad_i = ig.gradients_at(mnist.model, x0, torch.tensor([true_class]), "probability")
    _, grad_j = ig.gradients_at(mnist.model, x0, torch.tensor([false_class]), "probability")
    cases.append((x0, grad_j, grad_i, 0.05))
unit_box = (torch.tensor(0.0), torch.tensor(1.0))
_ = check_function(my_agi_step, lambda x, grad_j, grad_i, epsilon: adversarial_step(
                       x, x, grad_j, grad_i, epsilon, unit_box, "paper"), cases, name="one AGI step",
                   hint="torch.sign for the step, .clamp(0, 1) for the box; the contribution uses the true class's "
                        "gradient and the step actually taken (after clipping)")
"""),
        _solution(r"""
```python
def my_agi_step(x, grad_j, grad_i, epsilon):
    x_next = (x + epsilon * grad_j.sign()).clamp(0, 1)
    contribution = -grad_i * (x_next - x)
    return x_next, contribution
```

`torch.clamp(x + epsilon * torch.sign(grad_j), 0.0, 1.0)` is the same. Typical wrong answers, rejected by the
check: stepping along $\nabla f_j$ itself instead of its sign (the step would not be an $L_\infty$ step of size
$\varepsilon$), forgetting the clip (black pixels would go negative: the unclipped step is booked for pixels that
cannot move), the contribution with $+\nabla f_i$ (AGI integrates $-\nabla f_i$: the walk *lowers* the true class),
or with $\nabla f_j$, or with the step before clipping.
"""),
    ],

    # ---- 06: a deletion curve --------------------------------------------------------------------------------
    "06_evaluation": [
        _md(r"""
### Exercise · write a deletion curve

Deletion (Petsiuk, Das & Saenko, RISE, BMVC 2018) in this notebook's protocol: rank the pixel locations by the
map, most salient first (a *stable* sort, so ties keep raster order); then, `pixels_per_step` locations at a time,
set them to black (0) and record the softmax probability of the target class after each step, starting with the
untouched image. Write `my_deletion_scores(model, image, saliency, target, pixels_per_step)` for one image
`(1, 1, H, W)` and a map `(H, W)`; it returns the $n + 1$ scores, where
$n = \lceil H W / \text{pixels\_per\_step} \rceil$ (when `pixels_per_step` does not divide $H W$, the last step
deletes the pixels that are left). Do not change `image` itself: work on a copy. The check compares your scores
with `metrics.deletion(...).scores` on IG and random maps.
"""),
        _code(r"""
def my_deletion_scores(model, image, saliency, target, pixels_per_step):
    order = ...    # pixel indices (of the flattened H·W map), most salient first, stable
    scores = ...   # probabilities of `target`: the untouched image, then after every step
    return torch.tensor(scores)
"""),
        _code(r"""
from attrkit import integrated_gradients, metrics, zoo
from attrkit.exercise import check_function

mnist = zoo.load("mnist")
digit = mnist.x_test[7:8]
with torch.no_grad():
    digit_class = int(mnist.model(digit).argmax(1))
digit_ig = integrated_gradients(mnist.model, digit, target=digit_class, steps=32, record="none",
                                progress=False).attributions[0, 0]
cases = [(mnist.model, digit, digit_ig, digit_class, 28), (mnist.model, digit, digit_ig, digit_class, 112),
         (mnist.model, mnist.x_test[0:1], metrics.random_map((28, 28), seed=1), 7, 56),
         (mnist.model, digit, digit_ig, digit_class, 100)]  # 784 = 7 · 100 + 84: a shorter last step
_ = check_function(my_deletion_scores, lambda model, image, saliency, target, pps: metrics.deletion(
                       model, image[0], saliency, target=target, pixels_per_step=pps).scores, cases,
                   name="deletion scores", hint="torch.argsort(saliency.flatten(), descending=True, stable=True); "
                                                "work on a copy of the image, and keep the deleted pixels deleted")
"""),
        _solution(r"""
```python
def my_deletion_scores(model, image, saliency, target, pixels_per_step):
    order = torch.argsort(saliency.flatten(), descending=True, stable=True)
    current = image.clone()
    scores = []
    with torch.no_grad():
        scores.append(model(current).softmax(1)[0, target].item())
        for start in range(0, order.numel(), pixels_per_step):
            current.view(-1)[order[start:start + pixels_per_step]] = 0.0
            scores.append(model(current).softmax(1)[0, target].item())
    return torch.tensor(scores)
```

Building all $n + 1$ images at once with a mask (as `metrics.causal_metric` does) is equally right. Typical wrong
answers, rejected: ranking least salient first (that is a different curve: it should stay high), leaving out
the untouched image (n points instead of n + 1), stopping after $\lfloor H W / \text{pixels\_per\_step} \rfloor$
steps (the shorter last step is missing), the logit instead of the probability, ranking by $|$map$|$
(the protocol ranks the signed map), or restoring the previous group before deleting the next (each step must
keep what was deleted before). And an in-place edit of `image` itself is reported: the rule is never to change
the caller's tensors.
"""),
    ],
}

for _notebook, _cells in CELLS.items():  # nbformat 4.5 wants a cell id: stable ones, so that insertion is reproducible
    for _k, _cell in enumerate(_cells):
        _cell["id"] = f"{_notebook[:2]}-code-exercise-{_k}"
del _notebook, _cells, _k, _cell
