"""Author book/03_fcnn_equations.ipynb (then: make execute NB=book/03_fcnn_equations.ipynb)."""

from nbtools import code, md, write

cells = []
cells.append(md('''
# The equations of a fully connected network

The source article's section 4 describes a model in general terms (input layer, hidden
layers, output layer) and then, in §4.2, writes down the forward pass of a fully
connected network with one hidden layer. That is all the mathematics it gives: it names
back-propagation in §2.3 and §3 but never derives it. This chapter states the model
exactly, derives the gradients step by step, checks the derivation numerically against
TensorFlow, PyTorch and finite differences, and points out where the source's equations
and its code disagree.
'''))

cells.append(code('''
%matplotlib inline
from dataclasses import replace

import numpy as np
import tensorflow as tf
import torch

import bigmodel.tf as btf
import bigmodel.torch as bt
from bigmodel import fcnn, plotting
from bigmodel.book import glue
from bigmodel.data import load_mnist
from bigmodel.tf import fcnn as tf_fcnn
from bigmodel.torch import fcnn as torch_fcnn

torch_device = bt.pick_device()
tf_device = btf.pick_device()
rng = bt.seed_everything(0)  # a NumPy Generator, used for the random test inputs below
_ = btf.seed_everything(0)
'''))

cells.append(md('''
## The model

The input is a batch of $n$ samples with $d$ features each, one sample per row:
$X \\in \\mathbb{R}^{n \\times d}$. The hidden layer has $h$ units, with weights
$W_1 \\in \\mathbb{R}^{d \\times h}$ and biases $b_1 \\in \\mathbb{R}^{h}$; the output
layer has $k$ units, with $W_2 \\in \\mathbb{R}^{h \\times k}$ and
$b_2 \\in \\mathbb{R}^{k}$. The source's forward pass is

$$
\\begin{aligned}
Z_1 &= X W_1 + b_1, & A_1 &= \\sigma(Z_1),\\\\
Z_2 &= A_1 W_2 + b_2, & A_2 &= \\sigma(Z_2),
\\end{aligned}
$$

where $\\sigma$ is an activation function applied to every entry (the source names
ReLU, the sigmoid and tanh) and adding the row vector $b_1$ to the $n \\times h$ matrix
$X W_1$ means adding it to every row (broadcasting). Weights are stored
*input × output*, so a row of $X$ times $W_1$ is a row of $Z_1$: the layout of
`tf.matmul(x, W1)` in the source's code, and of every implementation in this book's
library (`bigmodel.fcnn`, `bigmodel.torch.fcnn`, `bigmodel.tf.fcnn`).

For MNIST, $d = 784$ (28×28 pixels), the source takes $h = 256$ and $k = 10$ classes.
The shapes then are:
'''))

cells.append(code('''
config = fcnn.FCNNConfig(n_in=784, n_hidden=256, n_out=10, activation="relu")
x = np.zeros((64, config.n_in), np.float32)  # a batch of n = 64 flattened images
params = fcnn.init_params(config, rng=0)
cache = fcnn.forward(params, x, config)
for name, shape in config.shapes.items():
    print(f"{name:3s} {str(shape):11s} {int(np.prod(shape)):7,d} parameters")
for name, value in cache.items():
    print(f"{name:3s} {str(value.shape):11s} (n = 64)")
print(f"total: {config.param_count():,} parameters")
glue("fcnn_param_count", config.param_count(), display=False)
'''))

cells.append(md('''
The network has $dh + h + hk + k$ = {glue:text}`fcnn_param_count:,` parameters, almost
all of them in $W_1$. The computation graph below shows the forward pass left to right;
back-propagation, derived next, walks it right to left (dashed arrows), producing one
gradient per node and per parameter.
'''))

cells.append(code('''
plotting.plot_computation_graph()
'''))

cells.append(md('''
The activation functions and their derivatives, which back-propagation needs, are
elementwise:

$$
\\operatorname{ReLU}(z) = \\max(z, 0),\\quad
\\operatorname{ReLU}'(z) = [z > 0];\\qquad
s(z) = \\frac{1}{1 + e^{-z}},\\quad s'(z) = s(z)\\,(1 - s(z));\\qquad
\\tanh'(z) = 1 - \\tanh^2(z).
$$

ReLU's derivative is 0 for every negative input: a unit whose input is negative passes
no gradient back. The sigmoid's and tanh's derivatives are at most 1/4 and 1 and fall
to zero for large $|z|$ (saturation).
'''))

cells.append(code('''
plotting.plot_activations(("relu", "sigmoid", "tanh"))
'''))

cells.append(md('''
## Back-propagation, step by step

Training needs the gradient of a scalar loss $L$ with respect to every parameter.
Back-propagation {cite:p}`rumelhart1986learning` computes them all in one backward sweep
by the chain rule, reusing the forward pass's intermediate values
{cite:p}`goodfellow2016deep`. Write $dM$ for the matrix of partial derivatives
$\\partial L / \\partial M_{ij}$, which has the shape of $M$.

**The loss.** The source trains with the mean squared error between the network output
and the one-hot targets $T \\in \\{0, 1\\}^{n \\times k}$ ($T_{ij} = 1$ if sample $i$ has
class $j$), averaged over all $nk$ entries, as its `tf.reduce_mean(tf.square(...))` does:

$$
L = \\frac{1}{nk} \\sum_{i=1}^{n} \\sum_{j=1}^{k} \\left(A_{2,ij} - T_{ij}\\right)^2,
\\qquad
dA_2 = \\frac{2}{nk} \\left(A_2 - T\\right).
$$

**Output activation.** $A_2 = g(Z_2)$ entry by entry, so each entry of $Z_2$ affects
only the same entry of $A_2$ and the chain rule is an elementwise product ($\\odot$):

$$
dZ_2 = dA_2 \\odot g'(Z_2).
$$

**Second layer.** $Z_{2,ij} = \\sum_{l} A_{1,il} W_{2,lj} + b_{2,j}$. The weight
$W_{2,lj}$ appears in $Z_{2,ij}$ for every sample $i$, with coefficient $A_{1,il}$; the
bias $b_{2,j}$ appears in every row with coefficient 1. Summing over the samples:

$$
dW_{2,lj} = \\sum_{i} A_{1,il}\\, dZ_{2,ij}
\\;\\Longrightarrow\\;
dW_2 = A_1^{\\top} dZ_2 \\in \\mathbb{R}^{h \\times k},
\\qquad
db_2 = \\sum_{i} dZ_{2,i\\cdot} = \\mathbf{1}^{\\top} dZ_2 \\in \\mathbb{R}^{k}.
$$

**Into the hidden layer.** $A_{1,il}$ appears in $Z_{2,ij}$ for every output $j$, with
coefficient $W_{2,lj}$:

$$
dA_{1,il} = \\sum_{j} dZ_{2,ij}\\, W_{2,lj}
\\;\\Longrightarrow\\;
dA_1 = dZ_2 W_2^{\\top} \\in \\mathbb{R}^{n \\times h},
\\qquad
dZ_1 = dA_1 \\odot \\sigma'(Z_1).
$$

**First layer.** The same argument as for the second layer, with $X$ in place of $A_1$:

$$
dW_1 = X^{\\top} dZ_1 \\in \\mathbb{R}^{d \\times h},
\\qquad
db_1 = \\mathbf{1}^{\\top} dZ_1 \\in \\mathbb{R}^{h}.
$$

Each gradient has the shape of its parameter, and every product's shapes fit; checking
the shapes is the quickest test of a derivation like this one. The backward pass costs
about twice the forward pass: two matrix products per layer ($dW$ and $dA$) against one.

**Softmax cross-entropy.** For classification the usual loss treats the outputs
$Z_2$ (with $g$ the identity, so $A_2 = Z_2$) as *logits*, turns each row into
probabilities with the softmax, and averages the negative log-probability of the true
class:

$$
P_{ij} = \\frac{e^{Z_{2,ij}}}{\\sum_{m} e^{Z_{2,im}}},
\\qquad
L = -\\frac{1}{n} \\sum_{i} \\sum_{j} T_{ij} \\log P_{ij}.
$$

For one sample with true class $c$, $L_i = -Z_{2,ic} + \\log \\sum_m e^{Z_{2,im}}$, and
differentiating with respect to $Z_{2,ij}$ gives $-[j = c] + P_{ij}$. Hence

$$
dZ_2 = \\frac{1}{n} \\left(P - T\\right),
$$

and everything from $dW_2$ onwards is unchanged. Each entry of $P - T$ lies between
$-1$ and $1$, however large the logits are; this matters below.

The library's NumPy reference implements exactly these lines in
`bigmodel.fcnn.loss_and_grads` (read its source: each line is one equation above).

## Checking the derivation

A derivation this long is easy to get wrong by a transpose or a factor of 2, so we check
it three ways. First against the automatic differentiation of the two frameworks: the
same weights loaded into a TensorFlow model (whose gradients `tf.GradientTape` computes)
and a PyTorch model (`loss.backward()`), on 64 real MNIST images, for both losses.
'''))

cells.append(code('''
data = load_mnist(scale=True, flatten=True)
xb, yb = data.x_train[:64], data.y_train[:64]
params = fcnn.init_params(config, rng=0, scheme="he")


def framework_grads(loss):
    """Gradients of `loss` at `params` on (xb, yb): by hand (NumPy), TF, PyTorch."""
    _, g_np = fcnn.loss_and_grads(params, xb, yb, config, loss)
    with tf.device(tf_device):
        model_tf = tf_fcnn.FCNN(config, params)
        with tf.GradientTape() as tape:
            loss_tf = tf_fcnn.loss_fn(model_tf(tf.constant(xb)), tf.constant(yb), loss)
        g_list = tape.gradient(loss_tf, model_tf.params)
        g_tf = {n: g.numpy() for n, g in zip(fcnn.PARAM_NAMES, g_list, strict=True)}
    model_torch = torch_fcnn.FCNN(config, params).to(torch_device)
    out = model_torch(torch.as_tensor(xb, device=torch_device))
    torch_fcnn.loss_fn(out, torch.as_tensor(yb, device=torch_device), loss).backward()
    g_torch = {n: getattr(model_torch, n).grad.cpu().numpy() for n in fcnn.PARAM_NAMES}
    return g_np, g_tf, g_torch


grads = {loss: framework_grads(loss) for loss in fcnn.LOSSES}
'''))

cells.append(code('''
def close(a, b):
    """Equal to float32 rounding: |a - b| <= 1e-5 * max|a| + 1e-8, entry by entry."""
    return bool(np.all(np.abs(a - b) <= 1e-5 * np.abs(a).max() + 1e-8))


checks = []
print(f"{'loss':14s}{'param':6s}{'max |grad|':>12s}{'|NumPy-TF|':>12s}"
      f"{'|NumPy-torch|':>15s}")
for loss, (g_np, g_tf, g_torch) in grads.items():
    for name in fcnn.PARAM_NAMES:
        d_tf = np.abs(g_np[name] - g_tf[name]).max()
        d_torch = np.abs(g_np[name] - g_torch[name]).max()
        size = np.abs(g_np[name]).max()
        print(f"{loss:14s}{name:6s}{size:12.2e}{d_tf:12.1e}{d_torch:15.1e}")
        checks += [close(g_np[name], g_tf[name]), close(g_np[name], g_torch[name])]
assert all(checks)
''', tags=["nbval-ignore-output"]))

cells.append(code('''
all_close = all(checks)
print("hand-derived gradients equal TensorFlow's and PyTorch's:", all_close)
'''))

cells.append(md('''
The differences are at the level of float32 rounding (about $10^{-7}$ relative to the
gradients' size): the frameworks add the same products in a different order. The exact
digits depend on the processor, which is why that table is not compared by the book's
tests; the boolean is.

The frameworks could share a mistake with us, for instance in the definition of the
loss, so the second check uses nothing but the definition of a derivative. The central
difference

$$
\\frac{\\partial L}{\\partial \\theta} \\approx
\\frac{L(\\theta + \\varepsilon) - L(\\theta - \\varepsilon)}{2 \\varepsilon}
$$

has an error of order $\\varepsilon^2$. It needs two forward passes per parameter, so we
use a small network (6 inputs, 5 hidden units, 4 outputs: 59 parameters) in float64
(`bigmodel.fcnn.numerical_grads`), every activation and both losses. For each parameter
we report the largest difference between the hand-derived gradient $a$ and the numerical
one $b$, relative to the largest entry of $a$: $\\max|a - b| / \\max|a|$.
'''))

cells.append(code('''
small = fcnn.FCNNConfig(n_in=6, n_hidden=5, n_out=4)
xs = rng.normal(size=(8, small.n_in))
ys = rng.integers(0, small.n_out, size=8)
p32 = fcnn.init_params(small, rng=1, scheme="glorot")
p64 = {k: v.astype(np.float64) for k, v in p32.items()}
p64["b1"] += 0.1  # non-zero biases, so their gradients are tested too
p64["b2"] -= 0.1

fd_errors = {}
for act in ("relu", "sigmoid", "tanh"):
    for out_act in ("identity", "sigmoid"):
        cfg = replace(small, activation=act, output_activation=out_act)
        for loss in fcnn.LOSSES:
            _, analytic = fcnn.loss_and_grads(p64, xs, ys, cfg, loss)
            numeric = fcnn.numerical_grads(p64, xs, ys, cfg, loss, eps=1e-6)
            rel = max(
                float(np.abs(a - numeric[n]).max() / np.abs(a).max())
                for n, a in analytic.items()
            )
            fd_errors[(act, out_act, loss)] = rel
print("parameters in the small network:", small.param_count())
print("combinations checked:", len(fd_errors))
'''))

cells.append(code('''
for (act, out_act, loss), rel in fd_errors.items():
    print(f"sigma={act:8s} g={out_act:9s} {loss:14s} largest relative error {rel:.1e}")
assert max(fd_errors.values()) < 1e-6
''', tags=["nbval-ignore-output"]))

cells.append(code('''
fd_all_close = max(fd_errors.values()) < 1e-6
print("hand-derived gradients equal finite differences:", fd_all_close)
glue("fd_max_rel_error", max(fd_errors.values()), display=False)
'''))

cells.append(md('''
The largest relative error, {glue:text}`fd_max_rel_error:.0e`, is what float64 finite
differences with $\\varepsilon = 10^{-6}$ can resolve: their truncation error is of order
$\\varepsilon^2$ and their rounding error of order $10^{-16}/\\varepsilon$. (A ReLU network is not
differentiable where some $Z_1$ entry is exactly 0; with random inputs that has
probability zero, and the library, like the frameworks, takes the derivative there to
be 0.)

## What the source leaves inconsistent

### The output: $A_2 = \\sigma(Z_2)$ in the equations, $Z_2$ in the code

The source's equations apply the activation to the output layer too, $A_2 = \\sigma(Z_2)$,
with $\\sigma$ = ReLU in its code, but its `forward` returns `z2`, not
`sigma(z2)`. The code is the better choice. A ReLU on the output makes every negative
output exactly 0 and, since $\\operatorname{ReLU}'(z) = 0$ for $z < 0$, gives it a zero
gradient: $dZ_2 = dA_2 \\odot [Z_2 > 0]$. If the output for a sample's *true* class is
negative, nothing in that sample's gradient can push it up. And a sample whose ten
outputs are all 0 is classified as digit 0, because `argmax` returns the first of equal
values. We measure this on 1,000 training images at initialisation, for the source's
N(0, 1) weights and for He's scaled ones {cite:p}`he2015delving`:
'''))

cells.append(code('''
x1k, y1k = data.x_train[:1000], data.y_train[:1000]
relu_out = replace(config, output_activation="relu")
rows = np.arange(len(y1k))
for scheme in ("normal", "he"):
    p = fcnn.init_params(relu_out, rng=0, scheme=scheme)
    z2 = fcnn.forward(p, x1k, relu_out)["Z2"]
    _, g = fcnn.loss_and_grads(p, x1k, y1k, relu_out, "mse")
    dead = z2 <= 0
    dead_w2_cols = int((np.abs(g["W2"]).sum(axis=0) == 0).sum())
    print(f"init {scheme}: outputs clipped to 0: {dead.mean():.1%}"
          f" | true class clipped: {dead[rows, y1k].mean():.1%}"
          f" | all ten clipped: {dead.all(axis=1).mean():.1%}"
          f" | W2 columns with zero gradient: {dead_w2_cols}")
    glue(f"relu_out_dead_{scheme}", float(dead.mean()), display=False)
    glue(f"relu_out_true_dead_{scheme}", float(dead[rows, y1k].mean()), display=False)
'''))

cells.append(md('''
At initialisation {glue:text}`relu_out_dead_he:.1%` of all outputs are clipped, and so
is the true class's output for {glue:text}`relu_out_true_dead_he:.1%` of the images. The
two schemes clip exactly the same outputs: `init_params` draws the same normal numbers
for both and He's scheme multiplies them by a positive constant per layer, which changes
no sign. Training can still move those
outputs through other samples' gradients, but a clipped output unit that no sample
turns positive stays dead for good. To see what this costs, we train the same network
for two epochs on 10,000 images with the squared error, once with a ReLU on the output
(the source's equations) and once without (its code), from the same He-initialised
weights:
'''))

cells.append(code('''
sub_x, sub_y = data.x_train[:10_000], data.y_train[:10_000]
results, zeros = {}, {}
variants = {"A2 = ReLU(Z2), the equations": relu_out, "A2 = Z2, the code": config}
for label, cfg in variants.items():
    model = torch_fcnn.FCNN(cfg, fcnn.init_params(cfg, rng=0)).to(torch_device)
    torch_fcnn.fit(model, sub_x, sub_y, epochs=2, batch_size=128, lr=1e-3, loss="mse",
                   seed=0, show_progress=False)
    _, acc = torch_fcnn.evaluate(model, data.x_test, data.y_test, loss="mse")
    out = torch_fcnn.predict(model, data.x_test)
    results[label] = acc
    zeros[label] = float((out == 0).mean())
    print(f"{label:30s} test accuracy {acc:.4f}"
          f" | outputs exactly 0: {zeros[label]:.1%}")
glue("relu_out_acc", results["A2 = ReLU(Z2), the equations"], display=False)
glue("relu_out_zero_after", zeros["A2 = ReLU(Z2), the equations"], display=False)
glue("identity_out_acc", results["A2 = Z2, the code"], display=False)
''', tags=["nbval-ignore-output"]))

cells.append(code('''
assert results["A2 = Z2, the code"] > 0.9
assert results["A2 = ReLU(Z2), the equations"] < results["A2 = Z2, the code"] - 0.05
''', tags=["remove-cell"]))

cells.append(md('''
The network with a ReLU output reaches {glue:text}`relu_out_acc:.4f` test accuracy
against {glue:text}`identity_out_acc:.4f` without it, and after training
{glue:text}`relu_out_zero_after:.1%` of its test outputs are exactly 0. The squared error
is content with that for the nine wrong classes (their target is 0), but wherever the
true class's output is clipped too, nothing pushes it up, and among the classes whose
output is 0 the prediction cannot choose. Classifiers therefore leave the last layer linear and
put the nonlinearity into the loss (the softmax).

### Squared error on one-hot targets versus cross-entropy

The source trains its logits with the mean squared error. Two properties of the
gradients explain why cross-entropy is the standard choice for classification. Take one
sample whose true class has logit $z$ and every other logit 0, and look at
$\\partial L / \\partial z$:

- squared error on the logits (the source's code): $\\frac{2}{k}(z - 1)$, which grows
  without bound with $|z - 1|$ and *pushes a confidently correct logit back down to 1*;
- squared error after a sigmoid (the source's equations with $\\sigma$ = sigmoid):
  $\\frac{2}{k}(s(z) - 1)\\,s'(z)$, which vanishes when $z$ is very negative, i.e. when
  the network is confidently wrong;
- softmax cross-entropy: $P_c - 1$, between $-1$ and $0$: large when the network is
  wrong, small when it is right, never unbounded.
'''))

cells.append(code('''
k = config.n_out
print(f"{'z (true-class logit)':>22s}{'MSE on logits':>15s}{'MSE on sigmoid':>16s}"
      f"{'cross-entropy':>15s}")
for z in (-10.0, -2.0, 0.0, 1.0, 2.0, 10.0):
    logits = np.zeros((1, k))
    logits[0, 0] = z
    s = 1 / (1 + np.exp(-z))
    mse = 2 / k * (z - 1)
    mse_sigmoid = 2 / k * (s - 1) * s * (1 - s)
    ce = fcnn.softmax(logits)[0, 0] - 1
    print(f"{z:22.0f}{mse:15.3f}{mse_sigmoid:16.5f}{ce:15.5f}")
'''))

cells.append(md('''
On the real network the first property dominates. With the source's N(0, 1) weights the
logits are in the hundreds, so the squared error's gradients are enormous while
cross-entropy's stay bounded; with He's weights the two are of comparable size:
'''))

cells.append(code('''
print(f"{'init':8s}{'loss':15s}{'loss value':>12s}{'|dZ2| max':>11s}"
      f"{'|dW2| norm':>12s}{'|dW1| norm':>12s}")
norms = {}
for scheme in ("normal", "he"):
    p = fcnn.init_params(config, rng=0, scheme=scheme)
    for loss in fcnn.LOSSES:
        value, g = fcnn.loss_and_grads(p, x1k, y1k, config, loss)
        z2 = fcnn.forward(p, x1k, config)["Z2"]
        t = fcnn.one_hot(y1k, k)
        if loss == "mse":
            dz2 = 2 * (z2 - t) / z2.size
        else:
            dz2 = (fcnn.softmax(z2) - t) / len(z2)
        norms[(scheme, loss)] = float(np.linalg.norm(g["W1"]))
        print(f"{scheme:8s}{loss:15s}{value:12.4g}{np.abs(dz2).max() * len(z2):11.3g}"
              f"{np.linalg.norm(g['W2']):12.3g}{np.linalg.norm(g['W1']):12.3g}")
ratio_normal = norms[("normal", "mse")] / norms[("normal", "cross_entropy")]
glue("mse_ce_grad_ratio_normal", ratio_normal, display=False)
'''))

cells.append(md('''
(The column $|dZ_2|$ is multiplied by $n$, so it is the per-sample size.) With N(0, 1)
weights the squared error's gradient for $W_1$ is {glue:text}`mse_ce_grad_ratio_normal:,.0f`
times the cross-entropy's, and almost all of it says "make the outputs smaller", not
"separate the classes". Adam normalises the size of each step, so training does not
diverge, but its steps go mostly into shrinking the outputs: the next chapter shows the
source's network still close to chance accuracy after ten epochs.

## Exercises

1. **Shapes.** Without running code, give the shapes of $dZ_1$, $dW_1$ and $db_1$ for
   a batch of 32 MNIST images in the 784-256-10 network, and say why $db_1$ is a sum over
   rows rather than a mean.

:::{dropdown} Solution
$dZ_1$ has the shape of $Z_1$, $(32, 256)$; $dW_1 = X^\\top dZ_1$ is
$(784, 32)(32, 256) = (784, 256)$, the shape of $W_1$; $db_1$ is $(256,)$. The bias is
added to every row, so it influences the loss through all 32 samples and the chain rule
adds up their contributions. The averaging over the batch is already inside $dZ_2$ (the
factor $1/(nk)$ or $1/n$); dividing again would count it twice.
:::

2. **Parameter count.** How many parameters does a 784-512-256-10 network (two hidden
   layers) have? Check your answer with `FCNNConfig`-style arithmetic in code.

:::{dropdown} Solution
Each layer has (inputs × outputs) weights plus one bias per output:
$784 \\cdot 512 + 512 + 512 \\cdot 256 + 256 + 256 \\cdot 10 + 10 = 535{,}818$. In code:
`sum(a * b + b for a, b in [(784, 512), (512, 256), (256, 10)])`.
:::

3. **Softmax and cross-entropy.** Show that for one sample with logits $z$ and true
   class $c$, $\\partial L / \\partial z_j = p_j - [j = c]$, where
   $L = -\\log p_c$ and $p = \\operatorname{softmax}(z)$. Why does the library compute the
   loss from $z - \\max_j z_j$?

:::{dropdown} Solution
$L = -z_c + \\log \\sum_m e^{z_m}$, so $\\partial L / \\partial z_j = -[j = c] +
e^{z_j} / \\sum_m e^{z_m} = p_j - [j = c]$. Subtracting the maximum changes neither the
softmax nor the loss (numerator and denominator are multiplied by the same
$e^{-\\max z}$), but it keeps `exp` from overflowing: with the source's N(0, 1) weights,
logits in the hundreds would give `exp(800) = inf` in float64 and far earlier in float32.
:::

4. **A wrong gradient.** Change `dW2 = A1.T @ dZ2` into `dZ2.T @ A1` in a copy of
   `loss_and_grads`. Which of this chapter's checks catch the mistake, and how?

:::{dropdown} Solution
`dZ2.T @ A1` is $(k, h)$ instead of $(h, k)$, so the comparison cell fails at once:
`g_np[name] - g_tf[name]` cannot broadcast $(10, 256)$ against $(256, 10)$. A mistake
that keeps the shapes, such as a missing factor 2 in $dA_2$, gets past that but not the
values: the hand-derived gradient is then half the true one, and both the framework
comparison and the finite differences report an error as large as the gradient itself
(relative error 1) instead of $10^{-7}$ or $10^{-8}$.
:::

5. **Choosing $\\varepsilon$.** Run the finite-difference check with
   $\\varepsilon = 10^{-2}$ and $\\varepsilon = 10^{-10}$. Explain both results.

:::{dropdown} Solution
Both make the error worse, for opposite reasons (expect roughly $10^{-4}$ relative to
the largest gradient entry in both cases, against $10^{-8}$ at $\\varepsilon = 10^{-6}$).
With $\\varepsilon = 10^{-2}$ the truncation error, of order $\\varepsilon^2$ times the
third derivative, dominates (and a ReLU kink within $\\pm\\varepsilon$ of some $Z_1$
entry adds a larger error). With $\\varepsilon = 10^{-10}$ the rounding error dominates:
$L(\\theta + \\varepsilon)$ and $L(\\theta - \\varepsilon)$ agree in nearly all of float64's
16 digits, and their difference keeps only a few correct ones (an error of order
$10^{-16} L / \\varepsilon$). Values around $10^{-4}$ to $10^{-6}$ balance the two.
:::
'''))

write("book/03_fcnn_equations.ipynb", cells)
