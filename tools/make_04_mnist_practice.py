"""Author book/04_mnist_practice.ipynb (then: make execute NB=book/04_mnist_practice.ipynb)."""

from nbtools import code, md, write

cells = []
cells.append(md('''
# MNIST practice

The source article's section 5 trains its fully connected network (784 inputs, 256
hidden ReLU units, 10 outputs; the equations are in the previous chapter) on the MNIST
handwritten digits {cite:p}`lecun1998gradient` and reports a test accuracy of 97.67 %.
This chapter runs that code, finds out why it does not run, makes the smallest change
that lets it run, measures what it really reaches, and then trains a sound version of
the same network in TensorFlow and PyTorch side by side.

:::{admonition} The source says / What we found
:class: warning

**The source says** (§5.2–5.4): the printed program trains for 10 epochs, prints a loss
falling from 0.291 to 0.172, and reaches "Test Accuracy: 0.97666667", i.e. 97.67 %.

**What we found:**

- The program as printed stops at the first training step with a
  {glue:text}`seed_code_error` ("too many values to unpack"). Iterating over a
  60000×784 tensor yields single 784-pixel rows, not `(x, y)` pairs. Behind that error
  sit two more: float64 pixels meet float32 weights in `tf.matmul`, and a single row
  has rank 1 where `tf.matmul` needs rank 2.
- With the smallest fix (float32 pixels, mini-batches of
  {glue:text}`seed_batch_size` image–label pairs) and every other choice kept, the
  network reaches {glue:text}`seed_fixed_test_pct:.2f` % on the 10,000 test images
  after {glue:text}`seed_epochs` epochs, not 97.67 %. Its training loss starts at
  {glue:text}`seed_init_mse:,.0f` (N(0, 1) weights give huge outputs) and is still
  {glue:text}`seed_last_logged_loss:.1f` at the last logged step, not 0.17.
- The printed log cannot come from this program: 0.97666667 is not a multiple of
  1/10,000 (it is 293/300 rounded to 8 decimals); none of the ten logged losses is a
  float32 number, although this program's loss is a float32 and its `print` shows the
  exact value of one (as in our run's log below); and
  {glue:text}`source_log_not_python_form` of them are not written the way Python prints
  any number.
- The same network with He initialisation, cross-entropy and the same optimiser
  reaches {glue:text}`mlp_test_pct_tf:.2f` % in TensorFlow and
  {glue:text}`mlp_test_pct_torch:.2f` % in PyTorch.
:::
'''))

cells.append(code('''
%matplotlib inline
import contextlib
import io
import re
import time
from fractions import Fraction

import numpy as np
import tensorflow as tf
import torch

import bigmodel.tf as btf
import bigmodel.torch as bt
from bigmodel import fcnn, plotting
from bigmodel.book import glue, python_version
from bigmodel.data import load_mnist
from bigmodel.tf import fcnn as tf_fcnn
from bigmodel.torch import fcnn as torch_fcnn
'''))

cells.append(md('''
## The environment, then and now

The source asks for Python 3.7 or newer and `pip install tensorflow`, plus CUDA and cuDNN
for a GPU. That advice has aged:

- **Python.** 3.7 reached its end of life in June 2023 and current TensorFlow and
  PyTorch wheels do not exist for it. This book needs Python 3.10 or newer.
- **This repository.** `make venv` creates `.venv` and installs the pinned versions in
  `constraints.txt` (CPU builds: a CPU-only `torch` and `tensorflow-cpu`),
  then the `bigmodel` library in editable mode. `make test` and `make book` call it for
  you.
- **TensorFlow on a GPU.** On Linux with an NVIDIA GPU, `pip install "tensorflow[and-cuda]"`
  pulls in matching CUDA and cuDNN libraries as pip packages; you no longer install them
  by hand. `tensorflow-cpu` is the smaller CPU-only package. TensorFlow ≥ 2.11 has no
  native Windows GPU support (use WSL2).
- **PyTorch on a GPU.** The default `pip install torch` on Linux is a CUDA build; the
  selector on pytorch.org gives the command for a particular CUDA version or for the
  CPU-only wheel.
- **Colab** has both frameworks and a GPU runtime preinstalled; the first cell of every
  chapter installs this book's library there.

The library picks the device for you: a CUDA GPU, then an Apple GPU, then the CPU,
unless the environment variable `BIGMODEL_DEVICE` says otherwise. The two framework
packages follow the same rule (`bigmodel.torch.pick_device()` returns a `torch.device`,
`bigmodel.tf.pick_device()` a device string for `with tf.device(...)`).
'''))

cells.append(code('''
torch_device = bt.pick_device()
tf_device = btf.pick_device()
print("Python     :", python_version())
print("TensorFlow :", tf.__version__, "on", btf.describe_device(tf_device))
print("PyTorch    :", torch.__version__, "on", bt.describe_device(torch_device))
assert torch_device.type in ("cuda", "mps", "cpu") and tf_device in ("/GPU:0", "/CPU:0")
''', tags=["nbval-ignore-output"]))

cells.append(md('''
## The source's program, as printed

Below is the program of the source's §5.2 with one substitution: it loads MNIST with
`tf.keras.datasets.mnist.load_data()`, which downloads the data set, and this book never
downloads inside a chapter (its tests run offline). `bigmodel.data.load_mnist()`
returns the same 60,000 training and 10,000 test images in the same form, `uint8` arrays
of shape `(60000, 28, 28)` and `(10000, 28, 28)` with integer labels, read from a local
copy whose checksums match the original files. The two replaced lines are kept as
comments, marked `▶`. Everything else is as printed, with the Chinese comments
translated. We seed TensorFlow first so that its random weights are the same on every
run; the source does not seed.

Jupyter's `%xmode Minimal` keeps the traceback to its last line. Two long lines are
wrapped to fit the page, and a `# noqa` comment tells the book's linter that `zip`
without `strict=` is the source's choice.
'''))

cells.append(code('''
%xmode Minimal
tf.keras.utils.set_random_seed(0)
'''))

cells.append(code('''
import tensorflow as tf

# Define the model's sizes
input_dim = 784
hidden_dim = 256
output_dim = 10

# Initialise the parameters
W1 = tf.Variable(tf.random.normal([input_dim, hidden_dim]))
b1 = tf.Variable(tf.zeros([hidden_dim]))
W2 = tf.Variable(tf.random.normal([hidden_dim, output_dim]))
b2 = tf.Variable(tf.zeros([output_dim]))

# Define the activation function
sigma = tf.nn.relu

# Define the forward pass
@tf.function
def forward(x):
    z1 = tf.matmul(x, W1) + b1
    a1 = sigma(z1)
    z2 = tf.matmul(a1, W2) + b2
    return z2

# Define the loss function
def loss(y_true, y_pred):
    return tf.reduce_mean(tf.square(y_true - y_pred))

# Define the optimiser
optimizer = tf.optimizers.Adam()

# Train the model
def train_model(train_data, train_labels, epochs):
    for epoch in range(epochs):
        for x, y in train_data:
            with tf.GradientTape() as tape:
                y_pred = forward(x)
                loss_value = loss(y, y_pred)
            grads = tape.gradient(loss_value, [W1, b1, W2, b2])
            optimizer.apply_gradients(zip(grads, [W1, b1, W2, b2]))  # noqa: B905
        print(f"Epoch {epoch+1}, Loss: {loss_value.numpy()}")

# Load the data
# ▶ mnist = tf.keras.datasets.mnist
# ▶ (x_train, y_train), (x_test, y_test) = mnist.load_data()
mnist = load_mnist()
(x_train, y_train) = (mnist.x_train, mnist.y_train)
(x_test, y_test) = (mnist.x_test, mnist.y_test)
x_train = x_train / 255.0
x_test = x_test / 255.0

# Convert the data types
x_train = tf.reshape(x_train, [-1, input_dim])
x_test = tf.reshape(x_test, [-1, input_dim])
y_train = tf.one_hot(y_train, output_dim)
y_test = tf.one_hot(y_test, output_dim)

# Train the model
train_model(x_train, y_train, epochs=10)

# Test the model
y_pred = forward(x_test)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(y_pred, axis=1),
                                           tf.argmax(y_test, axis=1)), tf.float32))
print(f"Test Accuracy: {accuracy.numpy()}")
''', tags=["raises-exception"]))

cells.append(md('''
### Why it fails

`train_model(x_train, y_train, epochs=10)` passes the images as `train_data`, and
`for x, y in train_data` iterates over the first axis of a `(60000, 784)` tensor. Each
step yields one row of 784 pixel values, and Python's unpacking `x, y = row` needs
exactly two. So the first step already raises. The labels, passed as `train_labels`, are
never used. The author evidently meant `train_data` to yield `(images, labels)` pairs,
one sample or one mini-batch at a time. Feeding it that way exposes two more problems,
which the next cell shows without training anything:
'''))

cells.append(code('''
row = next(iter(x_train))
print("x_train:", x_train.shape, x_train.dtype)
print("one step of `for x, y in train_data` yields", tuple(row.shape))


def first_error(fn):
    """Run fn(); return 'runs' or the exception's class and first line."""
    try:
        fn()
    except Exception as e:  # whatever the source's code raises
        # drop TensorFlow's internal node names from the message
        noise = r"\\{\\{function_node [^}]*\\}\\}\\s*|\\s*\\[Op:MatMul\\].*"
        msg = re.sub(noise, "", str(e).strip())
        return f"{type(e).__name__}: {msg.splitlines()[0][:120]}"
    return "runs"


probe = forward.python_function
print("one image, as loaded :", first_error(lambda: probe(x_train[0])))
one = tf.cast(x_train[0], tf.float32)
print("one image, float32   :", first_error(lambda: probe(one)))
print("128 images, as loaded:", first_error(lambda: probe(x_train[:128])))
batch = tf.cast(x_train[:128], tf.float32)
print("128 images, float32  :", first_error(lambda: probe(batch)))
glue("seed_code_error", "ValueError", display=False)
'''))

cells.append(md('''
- `x_train / 255.0` turns the `uint8` pixels into **float64**, while `tf.random.normal`
  makes **float32** weights, and `tf.matmul` does not mix the two.
- A single image is a vector of rank 1; `tf.matmul` multiplies matrices (rank 2), so a
  per-sample loop would need `x[None, :]` or `tf.reshape`.

(`forward.python_function` is the plain Python function under `@tf.function`; we call
it so these probes do not add traced graphs to `forward`.)

## The smallest fix

Two changes make the program run as its author intended: cast the pixels to float32,
and let `train_data` yield `(images, labels)` mini-batches with `tf.data`. We use
mini-batches of 128, the size of the sound version below, so that the two differ only in
the choices the source made: N(0, 1) initial weights, ReLU, the mean squared error on the
raw outputs (logits) against one-hot targets, Adam with its default learning rate
(0.001), 10 epochs, and no shuffling. The weights are those the seeded cell above drew.
'''))

cells.append(code('''
SEED_BATCH_SIZE = 128
SEED_EPOCHS = 10

x_train = tf.cast(x_train, tf.float32)  # fix 1: float32 pixels, like the weights
x_test = tf.cast(x_test, tf.float32)
# fix 2: (images, labels) mini-batches
train_data = tf.data.Dataset.from_tensor_slices((x_train, y_train))
train_data = train_data.batch(SEED_BATCH_SIZE)

# The full training set's loss before training (eagerly, outside the traced `forward`).
out0 = forward.python_function(x_train)
seed_init_mse = float(loss(y_train, out0))
seed_init_out_std = float(tf.math.reduce_std(out0))
print(f"at initialisation: loss {seed_init_mse:,.1f},"
      f" output standard deviation {seed_init_out_std:.1f}")

log = io.StringIO()
t0 = time.perf_counter()
# keep the printed log, to read it as we read the source's
with contextlib.redirect_stdout(log):
    train_model(train_data, y_train, epochs=SEED_EPOCHS)
seed_seconds = time.perf_counter() - t0
print(log.getvalue(), end="")

# Test the model, as printed
y_pred = forward(x_test)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(y_pred, axis=1),
                                           tf.argmax(y_test, axis=1)), tf.float32))
print(f"Test Accuracy: {accuracy.numpy()}")
'''))

cells.append(code('''
seed_losses = [float(line.split("Loss: ")[1]) for line in log.getvalue().splitlines()]
seed_fixed_test_acc = float(accuracy.numpy())
seed_pred = np.argmax(y_pred.numpy(), axis=1)
print("predictions per digit:", np.bincount(seed_pred, minlength=10).tolist())
print(f"{seed_seconds / SEED_EPOCHS:.1f} s per epoch")
glue("seed_batch_size", SEED_BATCH_SIZE, display=False)
glue("seed_epochs", SEED_EPOCHS, display=False)
glue("seed_init_mse", seed_init_mse, display=False)
glue("seed_first_logged_loss", seed_losses[0], display=False)
glue("seed_last_logged_loss", seed_losses[-1], display=False)
glue("seed_fixed_test_acc", seed_fixed_test_acc, display=False)
glue("seed_fixed_test_pct", 100 * seed_fixed_test_acc, display=False)
glue("seed_epoch_seconds", seed_seconds / SEED_EPOCHS, display=False)
glue("seed_init_out_std", seed_init_out_std, display=False)
glue("seed_steps", SEED_EPOCHS * len(train_data), display=False)
glue("seed_loss_drop", seed_init_mse / seed_losses[-1], display=False)
''', tags=["nbval-ignore-output"]))

cells.append(code('''
assert len(seed_losses) == SEED_EPOCHS
assert seed_losses[-1] < seed_init_mse  # it does learn something
assert seed_init_mse / seed_losses[-1] > 100  # "three orders of magnitude"
assert seed_init_out_std > 30  # "outputs in the hundreds" (standard deviation)
assert 0.0 < seed_fixed_test_acc < 0.3  # "little better than guessing"
''', tags=["remove-cell"]))

cells.append(md('''
The program now runs, and the network learns *something*: the loss falls by a factor of
{glue:text}`seed_loss_drop:,.0f`, from {glue:text}`seed_init_mse:,.0f` to
{glue:text}`seed_last_logged_loss:.1f`.
But after {glue:text}`seed_epochs` epochs it classifies only
{glue:text}`seed_fixed_test_pct:.2f` % of the test images correctly, little better than
guessing (10 %). The reason is the initialisation. With weights drawn from N(0, 1), each
hidden unit sums 784 pixels times weights of size 1, and the outputs come out with a
standard deviation of {glue:text}`seed_init_out_std:.0f` while the targets are 0 and 1. The mean squared error is dominated by that
scale, so Adam, which moves every weight by at most about its learning rate (0.001) per step,
spends these {glue:text}`seed_steps:,` steps shrinking the outputs rather than separating the digits. The
previous chapter shows the same effect in the gradients.

Plotted against the log printed in the source, the two runs are not even on the same
scale:
'''))

cells.append(code('''
# The source's §5.4 output, copied as text.
SOURCE_LOG = ["0.29134194767087423", "0.27104755462890625", "0.2538655866243848",
              "0.23749486691235352", "0.22370809201660156", "0.21137465519316016",
              "0.20038767247143555", "0.1901159205522461", "0.18094535896669922",
              "0.17164306240234375"]
SOURCE_TEST_ACCURACY = "0.97666667"
plotting.plot_loss_curves(
    {"printed in the source": [float(v) for v in SOURCE_LOG],
     "the fixed program, run here": seed_losses},
    logy=True, ylabel="loss printed after each epoch (last mini-batch)",
)
'''))

cells.append(md('''
## What the printed log can and cannot be

Two pieces of arithmetic show that the source's §5.4 output was not produced by its §5.2
program on MNIST.

**The accuracy.** The program averages 10,000 zeros and ones, so the accuracy is a
whole number of correct images divided by 10,000. 0.97666667 times 10,000 is not a
whole number; the fraction it rounds is 293/300, and only test sets of 300, 600, …
images can give it. Nor is it the way this program prints: `accuracy.numpy()` is a
NumPy float32, and an f-string converts it to a Python float first, so the program
prints the float32's exact value with up to 17 digits, as our run above did:
'''))

cells.append(code('''
acc = float(SOURCE_TEST_ACCURACY)
print("0.97666667 x 10,000 =", round(acc * 10_000, 4),
      "-> a whole number?", (acc * 10_000).is_integer())
print("nearest possible accuracies on 10,000 images:",
      [f"{k / 10_000:.4f}" for k in (9766, 9767)])
print("simplest fraction that rounds to it:", Fraction(acc).limit_denominator(10_000))
sizes = [n for n in range(1, 10_001)
         if f"{round(acc * n) / n:.8f}" == SOURCE_TEST_ACCURACY]
print("test-set sizes up to 10,000 that can give it:",
      sizes[:4], "...", sizes[-1], f"({len(sizes)} sizes)")
acc_9767 = tf.reduce_mean(tf.cast(tf.range(10_000) < 9_767, tf.float32))
print("how the program prints 9,767 correct out of 10,000:",
      f"Test Accuracy: {acc_9767.numpy()}")
print(f"how it would print the float32 closest to 0.97666667: {np.float32(acc)}")
glue("source_acc_possible_on_10000", (acc * 10_000).is_integer(), display=False)
'''))

cells.append(md('''
**The loss log.** In the printed program `loss_value` is a float32 tensor (the weights
are float32, and a float64 input would not even multiply them), so every logged loss is
the exact value of some float32 number, printed in full. Not one of the source's ten
values is. Worse, Python prints every number in the shortest form that reads back as the
same number, and {glue:text}`source_log_not_python_form` of the ten are not in that form:
no Python or NumPy number of any precision prints as `0.29134194767087423`.
'''))

cells.append(code('''
for text in SOURCE_LOG[:2]:
    v = float(text)
    print(f"the source printed {text}; the nearest float32 prints as {np.float32(v)},"
          f" and Python prints this float64 as {v!r}")
is_float32 = [float(np.float32(float(t))) == float(t) for t in SOURCE_LOG]
print("logged losses that are float32 values:", sum(is_float32), "of", len(SOURCE_LOG))
print("our run's logged losses that are float32 values:",
      sum(float(np.float32(v)) == v for v in seed_losses), "of", len(seed_losses))
as_python_prints = [repr(float(t)) == t for t in SOURCE_LOG]
print("logged losses written the way Python prints a number:",
      sum(as_python_prints), "of", len(SOURCE_LOG))
glue("source_log_python_form", sum(as_python_prints), display=False)
glue("source_log_not_python_form", len(SOURCE_LOG) - sum(as_python_prints),
     display=False)
print("MSE of always predicting 0.1 for every class:",
      float(np.mean((np.eye(10) - 0.1) ** 2)))
'''))

cells.append(md('''
What the log *can* be: the output of some other program that computed in float64 (a
NumPy implementation, say), tested on a few thousand images and printing the accuracy
rounded to 8 decimals; or text that was written rather than printed by a program. Its losses are also all above 0.09, the mean squared error of a
network that ignores the image and outputs 0.1 for every class; a loss of 0.17 is not by
itself evidence of 97 % accuracy, although it does not rule it out (the arg-max ignores
the scale of the outputs). What it cannot be is the printed program's output on MNIST's
10,000 test images, or the result of the program as printed, which does not get past
its first step.

## A sound version, in TensorFlow and PyTorch

The same 784-256-10 network with three changes that are standard practice:

- **He initialisation** {cite:p}`he2015delving`: weights from N(0, 2/fan_in), which keeps
  the size of the activations roughly constant from layer to layer under ReLU
  ({py:func}`bigmodel.fcnn.init_params`).
- **Softmax cross-entropy** on the logits instead of the squared error on one-hot
  targets; the previous chapter derives its gradient.
- **Shuffled mini-batches** of 128 with Adam {cite:p}`kingma2014adam` at learning rate
  0.001, for 10 epochs.

One set of initial weights, drawn once with NumPy, is loaded into both frameworks, and
both training loops visit the samples in the same order
({py:func}`bigmodel.training.batch_indices`), so the two runs differ only in how each
framework computes.
'''))

cells.append(code('''
EPOCHS, BATCH_SIZE, LR = 10, 128, 1e-3
data = load_mnist(scale=True, flatten=True)  # float32 in [0, 1], (N, 784)
config = fcnn.FCNNConfig(n_in=784, n_hidden=256, n_out=10, activation="relu")
params0 = fcnn.init_params(config, rng=0, scheme="he")

btf.seed_everything(0)
bt.seed_everything(0)
with tf.device(tf_device):
    model_tf = tf_fcnn.FCNN(config, params0)
model_torch = torch_fcnn.FCNN(config, params0).to(torch_device)
same_start = all(
    np.array_equal(model_tf.to_numpy()[k], model_torch.to_numpy()[k])
    for k in fcnn.PARAM_NAMES
)
print("same initial weights in both frameworks:", same_start)
print("parameters:", model_tf.param_count(), model_torch.param_count())
glue("mlp_params", config.param_count(), display=False)
'''))

cells.append(code('''
train_args = dict(epochs=EPOCHS, batch_size=BATCH_SIZE, lr=LR, loss="cross_entropy",
                  optimizer="adam", seed=0, show_progress=False)
with tf.device(tf_device):
    hist_tf = tf_fcnn.fit(model_tf, data.x_train, data.y_train, **train_args)
    _, mlp_test_acc_tf = tf_fcnn.evaluate(model_tf, data.x_test, data.y_test)
hist_torch = torch_fcnn.fit(model_torch, data.x_train, data.y_train, **train_args)
_, mlp_test_acc_torch = torch_fcnn.evaluate(model_torch, data.x_test, data.y_test)

for name, hist, acc in (("TensorFlow", hist_tf, mlp_test_acc_tf),
                        ("PyTorch", hist_torch, mlp_test_acc_torch)):
    print(f"{name:10s} loss per epoch:", " ".join(f"{v:.4f}" for v in hist.loss))
    print(f"{name:10s} test accuracy: {acc:.4f}")
glue("mlp_test_acc_tf", mlp_test_acc_tf, display=False)
glue("mlp_test_acc_torch", mlp_test_acc_torch, display=False)
glue("mlp_test_pct_tf", 100 * mlp_test_acc_tf, display=False)
glue("mlp_test_pct_torch", 100 * mlp_test_acc_torch, display=False)
glue("mlp_epochs", EPOCHS, display=False)
'''))

cells.append(code('''
assert mlp_test_acc_tf >= 0.975, mlp_test_acc_tf
assert mlp_test_acc_torch >= 0.975, mlp_test_acc_torch
assert seed_fixed_test_acc < min(mlp_test_acc_tf, mlp_test_acc_torch)
''', tags=["remove-cell"]))

cells.append(md('''
On the full test set the two frameworks reach {glue:text}`mlp_test_acc_tf:.4f`
(TensorFlow) and {glue:text}`mlp_test_acc_torch:.4f` (PyTorch) after
{glue:text}`mlp_epochs` epochs, from the same start and the same batches. Their loss
curves lie on top of each other: the epoch means differ by at most
{glue:text}`loss_gap_tf_torch:.1e`. They are not identical because the two frameworks add
up the same float32 numbers in different orders, and those differences grow over
thousands of Adam steps.
'''))

cells.append(code('''
plotting.plot_loss_curves({"TensorFlow": hist_tf.loss, "PyTorch": hist_torch.loss},
                          ylabel="mean training loss (cross-entropy)")
'''))

cells.append(code('''
gap = max(abs(a - b) for a, b in zip(hist_tf.loss, hist_torch.loss, strict=True))
print(f"largest per-epoch loss difference TF vs PyTorch: {gap:.2e}")
glue("loss_gap_tf_torch", gap, display=False)
assert gap < 0.01
''', tags=["nbval-ignore-output"]))

cells.append(md('''
### Where the network errs

The confusion matrix counts, for each true digit (row), what the PyTorch model
predicted (column); the diagonal holds the correct answers. The
{glue:text}`mlp_errors_torch:,` errors are spread thinly; the most frequent confusion is
a {glue:text}`mlp_top_confusion_true` read as a {glue:text}`mlp_top_confusion_pred`
({glue:text}`mlp_top_confusion_count` times).
'''))

cells.append(code('''
pred_torch = torch_fcnn.predict(model_torch, data.x_test).argmax(axis=1)
cm = plotting.confusion_matrix(data.y_test, pred_torch, k=10)
errors = int(cm.sum() - np.trace(cm))
off = cm - np.diag(np.diag(cm))
i, j = np.unravel_index(off.argmax(), off.shape)
print(f"{errors} errors out of {cm.sum()};"
      f" most frequent: true {i} predicted as {j} ({off[i, j]} times)")
glue("mlp_errors_torch", errors, display=False)
glue("mlp_top_confusion_true", int(i), display=False)
glue("mlp_top_confusion_pred", int(j), display=False)
glue("mlp_top_confusion_count", int(off[i, j]), display=False)
plotting.plot_confusion_matrix(cm, title="PyTorch model, 10,000 test images")
'''))

cells.append(md('''
The first 24 misclassified test images; titles read *true→predicted*. Judge for yourself
how many of them you would read correctly.
'''))

cells.append(code('''
plotting.plot_misclassified(data.x_test, data.y_test, pred_torch, n=24, ncols=8)
'''))

cells.append(md('''
Each hidden unit has one weight per pixel, so its 784 incoming weights form a 28×28
image: red pixels push the unit's input up, blue ones down, white ones do not matter.
After ten epochs from random weights most of each image is still the initial noise;
look for the smoother blobs and strokes in the centre, where the digits' pixels are.
{glue:text}`always_zero_pixels` of the 784 pixels are zero in every training image; their weights get a zero gradient at every step and so keep their
random initial values exactly, as the cell below checks.
'''))

cells.append(code('''
W1_trained = model_torch.to_numpy()["W1"]
dead_pixels = data.x_train.max(axis=0) == 0  # (784,) zero in every training image
print(f"{dead_pixels.sum()} pixels are zero in every training image;",
      "their weights unchanged:",
      np.array_equal(W1_trained[dead_pixels], params0["W1"][dead_pixels]))
glue("always_zero_pixels", int(dead_pixels.sum()), display=False)
plotting.plot_weight_images(W1_trained, n=16, ncols=8)
'''))

cells.append(md('''
## How much do mini-batches buy?

The source's loop, had it worked one image at a time, would have made 60,000 optimiser
steps per epoch. We time that per-sample loop (batch size 1) over a bounded number of
images, after one warm-up pass that includes TensorFlow's graph tracing, and extrapolate
to a full epoch. The mini-batch epoch times come from the training runs above (the median
over epochs 2–10, so tracing is not counted). The same model on the same device also
gives the time per training step of TensorFlow against PyTorch. These timings depend on
the machine and on what else it is doing; the stored numbers come from a shared
2-core CPU.
'''))

cells.append(code('''
N_LOOP = 500  # images per timed per-sample pass


def per_sample_seconds(module, model):
    """Seconds per image of the batch-size-1 loop (2nd of 2 passes, N_LOOP images)."""
    hist = module.fit(model, data.x_train[:N_LOOP], data.y_train[:N_LOOP], epochs=2,
                      batch_size=1, lr=LR, loss="cross_entropy", seed=0,
                      show_progress=False)
    return hist.seconds[1] / N_LOOP


with tf.device(tf_device):
    sample_s_tf = per_sample_seconds(tf_fcnn, tf_fcnn.FCNN(config, params0))
sample_s_torch = per_sample_seconds(
    torch_fcnn, torch_fcnn.FCNN(config, params0).to(torch_device))
epoch_s_tf = float(np.median(hist_tf.seconds[1:]))
epoch_s_torch = float(np.median(hist_torch.seconds[1:]))
for name, hist in (("TensorFlow", hist_tf), ("PyTorch", hist_torch)):
    rest = hist.seconds[1:]
    print(f"{name} epoch times {min(rest):.2f} to {max(rest):.2f} s")
steps = -(-len(data.x_train) // BATCH_SIZE)

n = len(data.x_train)
print(f"{'':12s}{'per-sample epoch':>18s}{'mini-batch epoch':>18s}"
      f"{'speed-up':>10s}{'ms/step':>9s}")
rows = {"TensorFlow": (sample_s_tf, epoch_s_tf),
        "PyTorch": (sample_s_torch, epoch_s_torch)}
for name, (s, e) in rows.items():
    print(f"{name:12s}{s * n:16.1f} s{e:16.2f} s{s * n / e:9.0f}x"
          f"{1000 * e / steps:9.2f}")

loop_vs_batch_speedup = sample_s_tf * n / epoch_s_tf
loop_vs_batch_speedup_torch = sample_s_torch * n / epoch_s_torch
tf_vs_torch_step_ratio = epoch_s_tf / epoch_s_torch
print(f"TensorFlow step time / PyTorch step time: {tf_vs_torch_step_ratio:.2f}")
glue("loop_vs_batch_speedup", loop_vs_batch_speedup, display=False)
glue("loop_vs_batch_speedup_torch", loop_vs_batch_speedup_torch, display=False)
glue("tf_vs_torch_step_ratio", tf_vs_torch_step_ratio, display=False)
glue("loop_epoch_seconds_tf", sample_s_tf * n, display=False)
glue("batch_epoch_seconds_tf", epoch_s_tf, display=False)
glue("n_loop", N_LOOP, display=False)
glue("torch_epoch_min", min(hist_torch.seconds[1:]), display=False)
glue("torch_epoch_max", max(hist_torch.seconds[1:]), display=False)
assert loop_vs_batch_speedup > 3 and loop_vs_batch_speedup_torch > 3
assert 0.02 < tf_vs_torch_step_ratio < 50
''', tags=["nbval-ignore-output"]))

cells.append(md('''
In this run a per-sample epoch in TensorFlow would take about
{glue:text}`loop_epoch_seconds_tf:.0f` s against {glue:text}`batch_epoch_seconds_tf:.1f` s
with mini-batches of 128: a speed-up of {glue:text}`loop_vs_batch_speedup:.0f`× in
TensorFlow and {glue:text}`loop_vs_batch_speedup_torch:.0f`× in PyTorch (extrapolated
from {glue:text}`n_loop:,` timed images). A step of 128 images costs little more than a
step of one, because each step's cost is mostly fixed overhead (launching operations,
the optimiser's update of all {glue:text}`mlp_params:,` parameters) and a 128-row matrix product uses the
processor far better than 128 vector products. A TensorFlow step took
{glue:text}`tf_vs_torch_step_ratio:.2f` times as long as a PyTorch step here. Such ratios
depend on the hardware, the framework versions, the model size and the machine's load:
in this run PyTorch's epochs took between {glue:text}`torch_epoch_min:.2f` and
{glue:text}`torch_epoch_max:.2f` s. On a CPU shared with other busy processes, a
framework whose threads must meet at the end of every operation loses most when one of
them is descheduled. Measure on your own, otherwise idle, machine before drawing
conclusions.

## Exercises

1. **The accuracy's denominator.** A paper reports "accuracy 0.9825" for a test set it
   says has 1,000 images. Is that possible? What is the smallest test set that could give
   exactly 0.9825?

:::{dropdown} Solution
An accuracy on 1,000 images is a multiple of 1/1,000, and 0.9825 × 1,000 = 982.5 is not
whole, so no. 0.9825 = 393/400 in lowest terms, so the test set needs a multiple of 400
images; 400 (393 correct) is the smallest. Check it with
`Fraction("0.9825")` from Python's `fractions` module.
:::

2. **One change at a time.** Starting from the fixed source program, which of its
   choices matters most? Replace only the initialisation (`tf.random.normal(...,
   stddev=(2 / input_dim) ** 0.5)` for `W1` and `stddev=(2 / hidden_dim) ** 0.5` for
   `W2`), keep the squared error, and train for 10 epochs. Then do the opposite: keep
   N(0, 1) and use `tf.nn.softmax_cross_entropy_with_logits` as the loss.

:::{dropdown} Solution
Make each change in a copy of the fixed cell and compare the test accuracies. With He's
scale the outputs start near the size of the targets, and the squared error trains
well: the previous chapter trains exactly that combination (He's weights, squared error,
linear outputs) past 90 % in two epochs on a sixth of the training set. With N(0, 1)
weights and cross-entropy the logits are still in the hundreds, the softmax is saturated
(one class gets probability ≈ 1) and the initial loss is huge; but the gradient with
respect to the logits, $(P - T)/n$, stays bounded however large they are, where the
squared error's grows with them. Whether that is enough to make up for the badly scaled
hidden layer is what the experiment tells you.
:::

3. **The per-sample loop.** Using the timing table above, how long would the source's
   intended per-sample loop take for its 10 epochs in TensorFlow on this machine? Why
   does a step of 128 images cost much less than 128 steps of one?

:::{dropdown} Solution
Ten times the per-sample epoch time in the table: 10 × {glue:text}`loop_epoch_seconds_tf:.0f` s
here. Each step pays a fixed cost (Python, dispatching a dozen operations, Adam updating
four parameter tensors) that does not depend on the batch size, and a matrix–matrix
product of 128 rows reuses each weight loaded from memory 128 times, where 128
matrix–vector products load every weight 128 times.
:::

4. **Two frameworks, one result.** The TensorFlow and PyTorch runs start from the same
   weights and visit the same batches, yet their losses differ slightly after ten
   epochs. Name two sources of the difference. What would you change
   to make them identical, and is it worth it?

:::{dropdown} Solution
Floating-point addition is not associative: the two frameworks' matrix products,
reductions (the mean over the batch) and Adam updates add the same float32 numbers in
different orders, and the tiny rounding differences are amplified by thousands of
optimiser steps. (This library already sets Adam's epsilon to 1e-8 in both; Keras'
default is 1e-7.) Computing in float64 in both would shrink the gap but not close it in
general, and no one needs bit-identical training runs across frameworks: agreement to a
few digits in the loss and in the accuracy is the meaningful test.
:::

5. **Shuffling.** The fixed source program never shuffles its training set; the sound
   version reshuffles it every epoch. Why can a fixed order hurt, and why does it hurt
   little on MNIST?

:::{dropdown} Solution
With a fixed order every epoch ends with the same batches, so the weights at the end of
each epoch are biased towards those samples, and any structure in the order (for
instance a file sorted by label) makes consecutive gradients correlated. MNIST's training
file is not sorted by label, so each batch already holds a mix of digits; reshuffling
still removes the repeated end-of-epoch bias and costs nothing.
:::
'''))

write("book/04_mnist_practice.ipynb", cells)
