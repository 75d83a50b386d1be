"""Author book/01_history_and_concepts.ipynb (then: make execute NB=book/01_history_and_concepts.ipynb)."""

from nbtools import code, md, write

write("book/01_history_and_concepts.ipynb", [
    md("""
    # History and core concepts

    This chapter follows sections 1 to 3 of the source article: the history of AI and deep
    learning, what makes a model "large", and the steps of training. The article's outline
    is sound; several of its facts are not. We check each against the published record and
    compute every number we quote.

    :::{admonition} The source says / What we found
    :class: warning
    | The source says | What we found |
    | --- | --- |
    | §1.1: "In 1998 Hinton et al. proposed the deep belief network." | Deep belief nets were published in 2006 by Hinton, Osindero and Teh {cite:p}`hinton2006fast`. 1998 is the year of LeNet-5 and the MNIST database {cite:p}`lecun1998gradient`. |
    | §1.2: "In 2018 the release of GPT-3 marked the start of the large-model era." | GPT-3 was described in 2020 {cite:p}`brown2020language`. 2018 saw the first GPT {cite:p}`radford2018improving` and BERT {cite:p}`devlin2019bert`; GPT-2 followed in 2019 {cite:p}`radford2019language`. |
    | §8.1: "from the first GPT-3 to BERT and other large models" | The order is reversed: BERT (2018) came before GPT-3 (2020), and BERT-large is about {glue:text}`gpt3_over_bert:.0f` times smaller (computed below). |
    | §2.2 shows an architecture figure from an external image host. | We cannot vouch for that image and do not reproduce it; the layer diagram of the next chapter is drawn by code. |
    | §7.1: *Dive into Deep Learning* by "Dumoulin, Soumith, Gualdi-Stern et al." | Its authors are Aston Zhang, Zachary C. Lipton, Mu Li and Alexander J. Smola {cite:p}`zhang2023dive`. |
    | §7.1: 《Python深度学习》 by Raschka and Mirjalili | Raschka and Mirjalili wrote *Python Machine Learning* {cite:p}`raschka2019python`; *Deep Learning with Python* (《Python深度学习》) is by François Chollet {cite:p}`chollet2021deep`. |
    | §7.2: Keras is "a high-level API based on TensorFlow and PyTorch". | Keras 3 runs on JAX, TensorFlow or PyTorch {cite:p}`keras3`; the version installed here is shown below. |
    | §7.3 recommends "A Theoretical Analysis of the Cramér-Rao Lower Bound for Gaussian Convolutional Neural Networks". | We could not locate this paper, so we do not cite it. |
    :::
    """),
    md("""
    ## 1. From rules to deep networks to large models

    Early AI, from the 1956 Dartmouth proposal {cite:p}`mccarthy1955proposal` on, relied
    largely on hand-written rules and expert systems. Deep learning instead learns a stack
    of non-linear transformations from data. Three milestones the article names, with the
    sizes their papers report, show how fast "large" has moved:
    """),
    code("""
    import numpy as np

    from bigmodel import fcnn, gpt
    from bigmodel.book import glue

    # (model, year, parameters as reported by its paper, citation key)
    MILESTONES = [
        ("LeNet-5", 1998, 60e3, "lecun1998gradient"),
        ("AlexNet", 2012, 60e6, "krizhevsky2012imagenet"),
        ("GPT", 2018, 117e6, "radford2018improving"),
        ("BERT-large", 2018, 340e6, "devlin2019bert"),
        ("GPT-2", 2019, 1542e6, "radford2019language"),
        ("GPT-3", 2020, 175e9, "brown2020language"),
    ]
    for name, year, n, _ in MILESTONES:
        print(f"{year}  {name:11s} {n:>18,.0f} parameters")
    glue("gpt3_over_bert", 175e9 / 340e6, display=False)
    glue("gpt3_over_lenet_m", 175e9 / 60e3 / 1e6, display=False)
    """),
    md("""
    In 22 years the largest models grew by a factor of about
    {glue:text}`gpt3_over_lenet_m:.1f` million. By the article's definition, "a neural
    network with millions or hundreds of millions of parameters or more", AlexNet was
    already a large model in 2012; in current usage "large" means billions.

    ## 2. Counting parameters from a model's shape

    A parameter count is not a fact to copy: it follows from the shape. For a GPT (the
    model that {doc}`05_text_generation` builds), each
    Transformer block of width $C$ holds $12C^2 + 13C$ parameters, and the embeddings add
    $VC$ for a vocabulary of $V$ tokens and $TC$ for $T$ positions. GPT-2 used a vocabulary of
    50,257 tokens and a context of 1,024; GPT-3 the same vocabulary and a context of 2,048.
    """),
    code("""
    GPT2_VOCAB, GPT2_CONTEXT = 50257, 1024
    # layers, width, heads; parameters reported by Radford et al. (2019), Table 2
    published = {
        "GPT-2 small": (12, 768, 12, 117e6),
        "GPT-2 medium": (24, 1024, 16, 345e6),
        "GPT-2 large": (36, 1280, 20, 762e6),
        "GPT-2 XL": (48, 1600, 25, 1542e6),
    }
    counted = {}
    for name, (layers, width, heads, reported) in published.items():
        config = gpt.GPTConfig(vocab_size=GPT2_VOCAB, block_size=GPT2_CONTEXT,
                               n_layer=layers, n_head=heads, n_embd=width)
        counted[name] = gpt.param_count(config)
        print(f"{name:13s} counted {counted[name]:>14,}   reported {reported:>14,.0f}")
    gpt3 = gpt.param_count(gpt.GPT3_175B)
    print(f"{'GPT-3':13s} counted {gpt3:>14,}   reported {175e9:>14,.0f}")
    glue("gpt2_small_counted", counted["GPT-2 small"] / 1e6, display=False)
    glue("gpt3_counted", gpt3 / 1e9, display=False)
    glue("fcnn_params", fcnn.FCNNConfig().param_count(), display=False)
    """),
    md("""
    Counting GPT-3's published shape gives {glue:text}`gpt3_counted:.1f` billion parameters,
    the paper's "175B". For the smallest GPT-2 the count is {glue:text}`gpt2_small_counted:.0f`
    million where the paper's table says 117 million; the released weights have the counted
    size, so quote model sizes from their shapes. For scale, the network of the source's
    MNIST example has {glue:text}`fcnn_params:,` parameters.

    ### What a parameter costs

    Every parameter must be stored, and during training also its gradient and the
    optimizer's state. With 16-bit weights that is 2 bytes per parameter to run the model;
    mixed-precision training with Adam keeps about 16 bytes per parameter (16-bit weights
    and gradients, plus 32-bit master weights and two 32-bit moment estimates), before
    activations {cite:p}`rajbhandari2020zero`.
    """),
    code("""
    GB = 1e9
    weights_fp16 = 2 * gpt3 / GB
    training_state = 16 * gpt3 / GB
    gpus_80gb = int(np.ceil(weights_fp16 / 80))
    print(f"GPT-3 weights in 16-bit:      {weights_fp16:8,.0f} GB", end="")
    print(f"  (at least {gpus_80gb} GPUs of 80 GB)")
    print(f"GPT-3 mixed-precision + Adam: {training_state:8,.0f} GB")
    glue("gpt3_fp16_gb", weights_fp16, display=False)
    glue("gpt3_train_gb", training_state, display=False)
    glue("gpt3_gpus_80gb", gpus_80gb, display=False)
    """),
    md("""
    Just holding GPT-3's weights takes {glue:text}`gpt3_fp16_gb:,.0f` GB, more than
    {glue:text}`gpt3_gpus_80gb` of today's largest single GPUs (80 GB) hold, and training it
    needs about {glue:text}`gpt3_train_gb:,.0f` GB of model state spread over many GPUs. This
    is the article's "large models need powerful compute" (§2.1), in numbers.

    ### Compute: the 6ND rule

    A forward and backward pass costs about 6 floating-point operations per parameter per
    training token {cite:p}`kaplan2020scaling`, so training a model of $N$ parameters on $D$
    tokens costs about $6ND$ operations.
    """),
    code("""
    gpt3_flops = gpt.training_flops(gpt3, gpt.GPT3_TRAINING_TOKENS)
    # the MNIST network, 10 epochs of 60,000 images
    mnist_flops = gpt.training_flops(fcnn.FCNNConfig().param_count(), 60_000 * 10)
    print(f"GPT-3, 300 billion tokens:         {gpt3_flops:.2e} FLOPs")
    print(f"MNIST network, 10 epochs of 60,000: {mnist_flops:.2e} FLOPs")
    print(f"ratio: {gpt3_flops / mnist_flops:.1e}")
    glue("gpt3_train_flops", gpt3_flops, display=False)
    glue("gpt3_over_mnist_flops", gpt3_flops / mnist_flops, display=False)
    """),
    md("""
    GPT-3's training took about {glue:text}`gpt3_train_flops:.2e` operations (the paper
    reports 3.14e23 in its appendix D), {glue:text}`gpt3_over_mnist_flops:.1e` times what
    the MNIST example of {doc}`04_mnist_practice` needs.

    ## 3. The training procedure, step by step

    Section 3.2 of the article lists seven steps. Here they are, each one a line of real code,
    training the source's fully connected network (with fewer hidden units) on the first
    10,000 MNIST images with plain gradient descent in NumPy, using the hand-written
    backward pass derived in {doc}`03_fcnn_equations`.
    """),
    code("""
    from bigmodel.data import load_mnist

    # 1. Data preprocessing: flatten 28x28 images to 784 numbers in [0, 1].
    mnist = load_mnist(scale=True, flatten=True)
    x, y = mnist.x_train[:10_000], mnist.y_train[:10_000]

    # 2. Model initialisation: random weights (He initialisation), zero biases.
    config = fcnn.FCNNConfig(n_in=784, n_hidden=64, n_out=10, activation="relu")
    params = fcnn.init_params(config, rng=0)
    rng = np.random.default_rng(0)

    for epoch in range(5):  # 7. Iterate: repeat for a fixed number of passes
        for batch in np.array_split(rng.permutation(len(x)), len(x) // 100):
            # 3. forward pass, 4. loss, 5. backward pass (all in loss_and_grads)
            loss, grads = fcnn.loss_and_grads(
                params, x[batch], y[batch], config, "cross_entropy"
            )
            # 6. Optimisation update: one step of gradient descent
            for name in params:
                params[name] -= 0.1 * grads[name]
        print(f"epoch {epoch + 1}: loss on the last batch {loss:.3f}")

    test_acc = fcnn.accuracy(fcnn.forward(params, mnist.x_test, config)["A2"], mnist.y_test)
    print(f"test accuracy on 10,000 images: {test_acc:.4f}")
    glue("numpy_loop_test_acc", 100 * test_acc, display=False)
    """, tags=["nbval-ignore-output"]),
    code("""
    assert test_acc > 0.9, test_acc  # 5 epochs of SGD on 10,000 images: well above chance
    """, tags=["remove-cell"]),
    md("""
    The network classifies
    {glue:text}`numpy_loop_test_acc:.1f` % of the 10,000 test images correctly after a few
    seconds of training on a sixth of the data. The frameworks do exactly these steps; what
    they add is automatic differentiation (no hand-written step 5), GPUs, and optimizers
    such as Adam (step 6). The MNIST chapter runs the source's own TensorFlow code.

    ## 4. The tools the article recommends

    The article recommends TensorFlow, PyTorch and Keras (§7.2). This book uses the first two
    directly. Keras today is a multi-backend library:
    """),
    code("""
    import keras

    print("Keras", keras.__version__, "running on the", keras.config.backend(), "backend")
    assert keras.config.backend() in ("tensorflow", "jax", "torch", "numpy", "openvino")
    """, tags=["nbval-ignore-output"]),
    md("""
    ## Exercises

    1. Using `bigmodel.gpt.param_count`, find the width $C$ of a 12-layer GPT with GPT-2's
       vocabulary and context that has about one billion parameters.
    2. How many bytes does the MNIST network of this chapter need to train with Adam in
       float32 (weights, gradients, two moments)?
    3. Change step 6 of the loop to a learning rate of 1.0. What happens, and why?

    :::{dropdown} Solutions
    1. Each block has about $12C^2$ parameters, so $12 \\cdot 12 C^2 + 50257\\,C \\approx 10^9$
       gives $C \\approx 2{,}400$; check with
       `gpt.param_count(gpt.GPTConfig(vocab_size=50257, block_size=1024, n_layer=12, n_head=16, n_embd=2400))`.
    2. Four float32 arrays of 203,530 values: $4 \\cdot 4 \\cdot 203{,}530 \\approx 3.3$ MB.
    3. The loss jumps and typically diverges or stalls: the step overshoots the minimum along
       the steepest directions of the loss. Smaller steps, or an adaptive method such as
       Adam, fix it.
    :::
    """),
])
