"""Author book/00_setup.ipynb (run: .venv/bin/python tools/make_00_setup.py; then make execute)."""

from nbtools import code, md, write

write("book/00_setup.ipynb", [
    md("""
    # Check your setup

    Run this notebook first. It tells you which versions you have, which devices the two
    frameworks found, whether PyTorch and TensorFlow compute the same network output from
    the same weights, and where the data sets were found. If a cell fails, the message says
    what to fix; the README lists the installs.

    Cells whose output depends on your machine (versions, devices, paths) are marked so the
    book's tests do not compare them; each still checks something that must hold everywhere.
    """),
    code("""
    import numpy as np
    import tensorflow as tf
    import torch

    import bigmodel
    from bigmodel.book import glue, python_version

    print("Python     ", python_version())
    print("NumPy      ", np.__version__)
    print("PyTorch    ", torch.__version__)
    print("TensorFlow ", tf.__version__)
    print("bigmodel   ", bigmodel.__version__)
    def major_minor(version: str) -> tuple[int, int]:
        return tuple(int(v) for v in version.split(".")[:2])

    assert major_minor(torch.__version__) >= (2, 2), "PyTorch 2.2 or newer is needed"
    assert major_minor(tf.__version__) >= (2, 16), "TensorFlow 2.16 or newer is needed"
    """, tags=["nbval-ignore-output"]),
    md("""
    ## Devices

    Both framework packages pick a device the same way: a CUDA GPU, then an Apple GPU, then
    the CPU, unless you set the environment variable `BIGMODEL_DEVICE` (say to `cpu`).
    TensorFlow is told to grow its GPU memory as needed instead of taking it all, so PyTorch
    can share the same GPU in this process. Mixed precision is chosen by what the hardware
    computes natively: bfloat16 on recent GPUs, float16 with loss scaling on older ones such
    as Colab's T4, and none on a CPU.
    """),
    code("""
    import bigmodel.tf as btf
    import bigmodel.torch as bt

    torch_device = bt.pick_device()
    tf_device = btf.pick_device()
    print("PyTorch    :", bt.describe_device(torch_device))
    print("   mixed precision:", bt.autocast_dtype(torch_device))
    print("TensorFlow :", btf.describe_device(tf_device))
    print("   mixed precision:", btf.autocast_dtype(tf_device))
    assert torch_device.type in ("cuda", "mps", "cpu") and tf_device in ("/GPU:0", "/CPU:0")
    """, tags=["nbval-ignore-output"]),
    md("""
    ## The same network, the same weights, two frameworks

    The source article's fully connected network (its section 4.2) with 784 inputs, 256
    hidden ReLU units and 10 outputs has {glue:text}`fcnn_params:,` parameters. We draw one
    set of weights with NumPy and load it into the NumPy reference, the PyTorch model and the
    TensorFlow model, then compare their outputs on 64 random inputs.
    """),
    code("""
    from bigmodel import fcnn
    from bigmodel.tf.fcnn import FCNN as TFFCNN
    from bigmodel.torch.fcnn import FCNN as TorchFCNN

    config = fcnn.FCNNConfig(n_in=784, n_hidden=256, n_out=10, activation="relu")
    params = fcnn.init_params(config, rng=0)
    x = np.random.default_rng(1).random((64, 784), dtype=np.float32)

    out_numpy = fcnn.forward(params, x, config)["A2"]
    with torch.no_grad():
        model = TorchFCNN(config, params).to(torch_device)
        out_torch = model(torch.as_tensor(x, device=torch_device)).cpu().numpy()
    with tf.device(tf_device):
        out_tf = TFFCNN(config, params)(tf.constant(x)).numpy()

    glue("fcnn_params", config.param_count(), display=False)
    print("parameters:", config.param_count())
    print("output shape:", out_numpy.shape)
    same = all(np.allclose(out, out_numpy, atol=1e-5) for out in (out_torch, out_tf))
    print("PyTorch == TensorFlow == NumPy (to 1e-5):", same)
    """),
    code("""
    diff_torch = float(np.abs(out_torch - out_numpy).max())
    diff_tf = float(np.abs(out_tf - out_numpy).max())
    print(f"largest difference: PyTorch {diff_torch:.2e}, TensorFlow {diff_tf:.2e}")
    assert max(diff_torch, diff_tf) < 1e-5
    """, tags=["nbval-ignore-output"]),
    md("""
    On a GPU the two frameworks may use TF32 or different kernels; the book's policy keeps
    float32 matrix products exact (TF32 off) unless a chapter says otherwise, so the
    agreement above holds there too.

    ## The data

    The loaders look for each data set in an explicit directory, then in the directory named
    by `BIGMODEL_DATA`, then in your cache (`~/.cache/bigmodel`), and only then download it
    from its canonical address. Every file is checked against its published SHA-256 sum; a
    file that does not match is reported and never used.
    """),
    code("""
    from bigmodel import data

    for name in data.DATASETS:
        print(f"{name:16s} found in {data.fetch(name)}")
    """, tags=["nbval-ignore-output"]),
    code("""
    mnist = data.load_mnist()
    print("train:", mnist.x_train.shape, mnist.x_train.dtype, "labels", mnist.y_train.shape)
    print("test: ", mnist.x_test.shape, mnist.x_test.dtype, "labels", mnist.y_test.shape)
    print("training images per digit:", np.bincount(mnist.y_train).tolist())
    text = data.load_tiny_shakespeare()
    print(f"Tiny Shakespeare: {len(text):,} characters, {len(set(text))} distinct")
    """),
    md("""
    If every cell above ran, you are ready for the chapters.
    """),
])
