"""Author book/05_text_generation.ipynb (then: make execute NB=book/05_text_generation.ipynb)."""

from nbtools import code, md, write

write("book/05_text_generation.ipynb", [
    md("""
    # Text generation
    """),
    md("""
    Section 4.3 of the source article generates a short essay in four steps: preprocess the
    text into indices, "initialise GPT-3", generate a sequence, decode it. GPT-3's weights
    were never released {cite:p}`brown2020language`, so nobody can initialise *that* model
    at home, and a randomly initialised GPT-3 would only produce noise. What we can do, for
    real and in a few minutes on a laptop, is all four steps with a small GPT: the same
    decoder-only Transformer {cite:p}`vaswani2017attention,radford2019language`, trained
    here on the {glue:text}`n_chars_m:.1f` million characters of Tiny Shakespeare
    {cite:p}`karpathy_charrnn`. The
    model code follows the style of nanoGPT {cite:p}`karpathy_nanogpt` and exists twice,
    in PyTorch (`bigmodel.torch.gpt`) and in TensorFlow (`bigmodel.tf.gpt`), with the same
    parameter names and one checkpoint format.

    :::{admonition} The source says / What we found
    :class: warning
    | The source says | What we found |
    | --- | --- |
    | §4.3: "initialise the GPT-3 model", then generate. | GPT-3's weights are not public; it is used through OpenAI's API {cite:p}`brown2020language`. Initialising a model means random weights: generation needs a *trained* model, so this chapter trains one. |
    | §1.2: "In 2018 the release of GPT-3 ..." | GPT-3 was published in 2020 {cite:p}`brown2020language`; 2018 is the year of the first GPT {cite:p}`radford2018improving`. |
    | §1.2: "GPT-3 has 175 billion parameters." | Correct: its published shape gives {glue:text}`gpt3_params_b:.1f` billion, computed below. |
    | §4.3 shows a fluent Chinese essay as the model's output. | No model, prompt, or settings are given, so the text cannot be reproduced. The samples below come from code you can run, with the seed printed. |
    | §4.3, step 1: "split the input text into words and convert them to indices". | GPT-2 and GPT-3 split text into byte-level BPE sub-word tokens, not words {cite:p}`radford2019language`. We use single characters, the simplest tokenizer that needs no training. |
    :::

    The chapter's plan follows the source's steps: **1** preprocess, **2** initialise (and,
    because that alone is useless, train), **3** generate, **4** decode. Then we ask how
    the loss depends on model size, and what training GPT-3 itself would cost.
    """),
    code("""
    import time

    import matplotlib.pyplot as plt
    import numpy as np
    import tensorflow as tf
    import torch

    import bigmodel.tf
    import bigmodel.torch
    from bigmodel import gpt
    from bigmodel.book import glue
    from bigmodel.data import load_tiny_shakespeare
    from bigmodel.gpt import CONFIGS, TrainConfig
    from bigmodel.tf import gpt as tf_gpt
    from bigmodel.tf import gpt_train as tf_train
    from bigmodel.tokenizer import CharTokenizer
    from bigmodel.torch import gpt as torch_gpt
    from bigmodel.torch import gpt_train as torch_train

    device = bigmodel.torch.pick_device()
    tf_device = bigmodel.tf.pick_device()
    ON_GPU = device.type == "cuda"
    if not ON_GPU:
        # Models this small are bound by per-operation overhead: one thread per framework
        # is as fast as two, and does not fight the other framework for a shared CPU.
        torch.set_num_threads(1)
        tf.config.threading.set_intra_op_parallelism_threads(1)
    _ = torch.manual_seed(0)
    tf.keras.utils.set_random_seed(0)
    """),
    md("""
    ## Step 1: preprocess, from text to indices

    The tokenizer's vocabulary is the sorted set of characters in the text; a character's
    index in that list is its token id.
    """),
    code("""
    text = load_tiny_shakespeare()
    tok = CharTokenizer.from_text(text)
    print(f"{len(text):,} characters, vocabulary of {tok.vocab_size}:")
    print(repr("".join(tok.chars)))
    print(text[:200])
    glue("n_chars_m", len(text) / 1e6, display=False)
    glue("vocab_size", tok.vocab_size, display=False)
    """),
    code("""
    ids = tok.encode("To be, or not to be")
    print(ids)
    print(repr(tok.decode(ids)))
    """),
    md("""
    A character outside the vocabulary is an error that says which one and where. The
    source's task, an essay about 人工智能 (artificial intelligence), is beyond a model that
    has only ever seen {glue:text}`vocab_size` characters of English:
    """),
    code("""
    tok.encode("AI is 人工智能")
    """, tags=["raises-exception"]),
    md("""
    We keep the first 90 % of the text for training and the last 10 % for validation. As a
    yardstick, a *bigram* model, which predicts the next character from counts of the
    character pairs in the training text, scores this cross-entropy on the validation text
    (in nats per character; guessing uniformly among all {glue:text}`vocab_size`
    characters would give {glue:text}`uniform_loss:.3f`):
    """),
    code("""
    data = tok.encode(text)
    n_train = int(0.9 * len(data))
    train_ids, val_ids = data[:n_train], data[n_train:]
    bigram = gpt.bigram_loss(train_ids, val_ids, tok.vocab_size)
    print(f"train {len(train_ids):,} tokens, validation {len(val_ids):,} tokens")
    print(f"bigram validation loss: {bigram:.4f} nats/char")
    glue("bigram_val_loss", bigram, display=False)
    glue("uniform_loss", float(np.log(tok.vocab_size)), display=False)
    """),
    md("""
    The bigram model's {glue:text}`bigram_val_loss:.3f` is the bar the Transformer must clear.

    ## Step 2: initialise a GPT

    One configuration drives both frameworks. On a CPU it is tiny so that this page runs
    in a few minutes; on a GPU the same cell picks nanoGPT's "shakespeare_char" size
    ({glue:text}`gpu_params_m:.1f` million parameters) and trains longer. Change `config` and `train_cfg` to
    experiment.
    """),
    code("""
    if ON_GPU:
        config = CONFIGS["shakespeare"].replace(vocab_size=tok.vocab_size)
        train_cfg = TrainConfig(max_steps=2000, batch_size=64, lr=1e-3, min_lr=1e-4,
                                warmup_steps=100, eval_interval=250, eval_iters=20)
    else:
        config = CONFIGS["tiny"].replace(vocab_size=tok.vocab_size)
        train_cfg = TrainConfig(max_steps=300, batch_size=32, lr=3e-3, min_lr=3e-4,
                                warmup_steps=20, eval_interval=50, eval_iters=10)
    n_params = gpt.param_count(config)
    gpu_config = CONFIGS["shakespeare"].replace(vocab_size=tok.vocab_size)
    glue("gpu_params_m", gpt.param_count(gpu_config) / 1e6, display=False)
    print(config)
    print(f"{n_params:,} parameters")
    glue("gpt_params", n_params)
    """),
    md("""
    Each of the `n_layer` blocks normalises its input (LayerNorm), lets every position
    attend to itself and the positions before it (causal multi-head self-attention), and
    passes the result through a two-layer MLP with GELU {cite:p}`hendrycks2016gelu`; the
    output layer reuses the token-embedding matrix (weight tying). With
    `config` as above the model has {glue:text}`gpt_params:,` parameters.

    Both frameworks build their model from the same seeded initialisation, so before any
    training they must compute the same logits:
    """),
    code("""
    model = torch_gpt.GPT(config, seed=0).to(device)
    with tf.device(tf_device):
        tf_model = tf_gpt.GPT(config, seed=0)

    probe = gpt.get_batch(val_ids, 2, config.block_size, np.random.default_rng(0))[0]
    model.eval()  # no dropout while comparing
    with torch.no_grad():
        logits_torch = model(torch.as_tensor(probe, device=device))[0].float().cpu().numpy()
    logits_tf = tf_model(probe)[0].numpy()
    print("largest |PyTorch - TensorFlow| logit difference below 1e-4:",
          bool(np.abs(logits_torch - logits_tf).max() < 1e-4))
    """),
    md("""
    This is all the source's step 2 can give. An initialised model's text is noise:
    """),
    code("""
    prompt = tok.encode("ROMEO:")[None, :]  # (1, T) token ids

    def sample(m, n=200, seed=0):
        if isinstance(m, torch_gpt.GPT):
            out = m.generate(torch.as_tensor(prompt, device=device), n, top_k=10, rng=seed)
            return tok.decode(out[0].cpu().numpy())
        return tok.decode(m.generate(prompt, n, top_k=10, rng=seed)[0])

    print(sample(model))
    """),
    md("""
    ### Training

    Training minimises the cross-entropy of each next character. The loop is nanoGPT's:
    AdamW {cite:p}`loshchilov2019adamw` with weight decay on the matrices only, a linear
    warm-up and cosine decay of the learning rate, gradient clipping, and a loss estimate
    on fixed training and validation batches every `eval_interval` steps. Both frameworks
    draw the same batches from the same seed.
    """),
    code("""
    steps = np.arange(train_cfg.max_steps)
    plt.figure(figsize=(6.4, 3))
    plt.plot(steps, [train_cfg.lr_at(s) for s in steps])
    plt.xlabel("step"); plt.ylabel("learning rate"); plt.title("warm-up, then cosine decay")
    plt.tight_layout(); plt.show()
    """),
    code("""
    t0 = time.perf_counter()
    hist_torch = torch_train.train(model, train_ids, val_ids, train_cfg)
    seconds_torch = time.perf_counter() - t0
    with tf.device(tf_device):
        t0 = time.perf_counter()
        hist_tf = tf_train.train(tf_model, train_ids, val_ids, train_cfg)
        seconds_tf = time.perf_counter() - t0

    runs = (("PyTorch", hist_torch, seconds_torch), ("TensorFlow", hist_tf, seconds_tf))
    for name, h, s in runs:
        print(f"{name:10s} val loss {h.val_loss[-1]:.3f} after {h.step[-1]} steps, "
              f"{s:.0f} s, {h.tokens_per_second:,.0f} tokens/s")
    glue("gpt_val_loss_torch", hist_torch.val_loss[-1])
    glue("gpt_val_loss_tf", hist_tf.val_loss[-1])
    glue("train_tokens_per_s", hist_torch.tokens_per_second, display=False)
    # training must beat the bigram baseline, in both frameworks
    assert hist_torch.val_loss[-1] < bigram and hist_tf.val_loss[-1] < bigram
    # same data, same weights, same algorithm: the curves agree closely on a CPU
    assert ON_GPU or abs(hist_torch.val_loss[-1] - hist_tf.val_loss[-1]) < 0.05
    """, tags=["nbval-ignore-output"]),
    code("""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, h, style in (("PyTorch", hist_torch, "-"), ("TensorFlow", hist_tf, "--")):
        ax.plot(h.step, h.loss, style, color="C0", label=f"{name} train")
        ax.plot(h.step, h.val_loss, style, color="C1", label=f"{name} validation")
    ax.axhline(bigram, color="gray", lw=1, label="bigram baseline")
    ax.set_xlabel("step"); ax.set_ylabel("cross-entropy (nats/char)"); ax.legend(fontsize=8)
    plt.tight_layout(); plt.show()
    """, tags=["nbval-ignore-output"]),
    md("""
    After training, the validation loss is {glue:text}`gpt_val_loss_torch:.3f` in PyTorch
    and {glue:text}`gpt_val_loss_tf:.3f` in TensorFlow, below the bigram baseline's
    {glue:text}`bigram_val_loss:.3f`. The two frameworks follow nearly the same curve: same
    weights, same batches, same optimizer; they differ only in floating-point rounding.

    ## Steps 3 and 4: generate, then decode

    Generation repeats one move: feed the context, take the logits of the last position,
    turn them into probabilities (divided by a *temperature*, optionally keeping only the
    `top_k` most likely characters or the smallest set reaching probability `top_p`
    {cite:p}`holtzman2020curious`), draw one character, append it. Decoding maps the ids
    back to characters.
    """),
    code("""
    text_torch = sample(model)
    text_tf = sample(tf_model)
    print("PyTorch:\\n" + text_torch)
    print("\\nTensorFlow:\\n" + text_tf)
    assert text_torch.startswith("ROMEO:") and len(text_torch) == len("ROMEO:") + 200
    """, tags=["nbval-ignore-output"]),
    md("""
    The text has Shakespeare's layout (names in capitals, a colon, short lines) and many
    real words, from a model that knows nothing but characters. Lower temperatures make it
    more repetitive, higher ones more random:
    """),
    code("""
    for temperature in (0.5, 1.0, 1.5):
        out = model.generate(torch.as_tensor(prompt, device=device), 80,
                             temperature=temperature, rng=1)
        print(f"--- temperature {temperature}\\n{tok.decode(out[0].cpu().numpy())}")
    """, tags=["nbval-ignore-output"]),
    md("""
    A temperature of zero is not a distribution; ask for greedy decoding with `top_k=1`
    instead:
    """),
    code("""
    model.generate(torch.as_tensor(prompt, device=device), 10, temperature=0.0)
    """, tags=["raises-exception"]),
    md("""
    ### Saving the model, and loading it into the other framework

    Checkpoints are safetensors files: raw tensors plus a JSON header holding the
    configuration. Loading runs no code, unlike a pickle, and both frameworks read the same
    file:
    """),
    code("""
    import tempfile
    from pathlib import Path

    ckpt = Path(tempfile.mkdtemp()) / "shakespeare_gpt.safetensors"
    model.save(ckpt)
    with tf.device(tf_device):
        from_torch = tf_gpt.GPT.from_checkpoint(ckpt)
    with torch.no_grad():
        reference = model.eval()(torch.as_tensor(probe, device=device))[0]
    reference = reference.float().cpu().numpy()
    same = np.allclose(from_torch(probe)[0].numpy(), reference, atol=1e-3)
    print("TensorFlow, loaded from the PyTorch checkpoint, gives the same logits:", same)
    """),
    md("""
    ### The KV cache

    Without a cache each new character re-runs the model over the whole context. Attention
    keys and values of past positions never change (the model is causal), so a *KV cache*
    stores them and each step processes only the newest token. Speed does not depend on
    what the weights are, so we time an untrained model of the same shape with a longer
    context of 256 characters. Greedy decoding gives the same text both ways:
    """),
    code("""
    long_model = torch_gpt.GPT(config.replace(block_size=256), seed=0).to(device)
    n_new = long_model.config.block_size - prompt.shape[1]  # fill the context once
    timings = {}
    for use_cache in (False, True):
        prompt_t = torch.as_tensor(prompt, device=device)
        long_model.generate(prompt_t, 4, top_k=1, use_cache=use_cache)  # warm-up
        t0 = time.perf_counter()
        out = long_model.generate(prompt_t, n_new, top_k=1, use_cache=use_cache)
        timings[use_cache] = (time.perf_counter() - t0, out)
    same_text = torch.equal(timings[True][1], timings[False][1])
    speedup = timings[False][0] / timings[True][0]
    for use_cache, (s, _) in timings.items():
        print(f"{'with' if use_cache else 'without'} KV cache: {n_new / s:8,.0f} tokens/s")
    print(f"speed-up {speedup:.1f}x, identical text: {same_text}")
    glue("kv_cache_speedup", speedup)
    glue("tokens_per_s_cache", n_new / timings[True][0], display=False)
    glue("tokens_per_s_nocache", n_new / timings[False][0], display=False)
    assert same_text and speedup > 1.0
    """, tags=["nbval-ignore-output"]),
    md("""
    Here the cache generates {glue:text}`tokens_per_s_cache:,.0f` tokens/s against
    {glue:text}`tokens_per_s_nocache:,.0f` without, a speed-up of
    {glue:text}`kv_cache_speedup:.1f`x. The gain grows with the context length: uncached
    generation does work proportional to the square of the length, cached generation
    proportional to the length. Once the context is full the window slides, the positions
    no longer match the cache, and `generate` rebuilds it, which keeps the text exactly
    equal to the uncached one.

    ## How loss depends on model size

    Kaplan et al. {cite:p}`kaplan2020scaling` found that a language model's loss falls as a
    power law in its number of parameters, over many orders of magnitude, when data and
    training steps are not the bottleneck. Hoffmann et al. {cite:p}`hoffmann2022training`
    then showed that for a fixed compute budget, parameters and training tokens should
    grow together (about 20 tokens per parameter for their "Chinchilla" models), and that
    GPT-3-era models were too large for the data they saw. We can watch the first effect
    in miniature: four widths, the same number of steps and batches.
    """),
    code("""
    widths = (16, 32, 48, 64) if not ON_GPU else (64, 128, 256, 384)
    scale_cfg = TrainConfig(max_steps=150, batch_size=16, lr=3e-3, min_lr=3e-4,
                            warmup_steps=15, eval_interval=150, eval_iters=10)
    sizes, losses = [], []
    for width in widths:
        c = gpt.GPTConfig(vocab_size=tok.vocab_size, block_size=32, n_layer=2, n_head=4,
                          n_embd=width)
        m = torch_gpt.GPT(c, seed=0).to(device)
        h = torch_train.train(m, train_ids, val_ids, scale_cfg)
        sizes.append(gpt.param_count(c))
        losses.append(h.val_loss[-1])
        print(f"n_embd {width:3d}: {sizes[-1]:>9,} parameters, val loss {losses[-1]:.3f}")
    slope = float(np.polyfit(np.log(sizes), np.log(losses), 1)[0])
    glue("scaling_slope", slope, display=False)
    glue("scaling_min_params", sizes[0], display=False)
    glue("scaling_max_params", sizes[-1], display=False)
    assert losses[-1] < losses[0], "the largest model should beat the smallest"
    """, tags=["nbval-ignore-output"]),
    code("""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.loglog(sizes, losses, "o-")
    ax.set_xlabel("parameters"); ax.set_ylabel("validation loss (nats/char)")
    ax.set_title(f"{scale_cfg.max_steps} steps each; fitted slope {slope:.2f}")
    plt.tight_layout(); plt.show()
    """, tags=["nbval-ignore-output"]),
    md("""
    From {glue:text}`scaling_min_params:,` to {glue:text}`scaling_max_params:,` parameters
    the validation loss falls with a fitted log-log slope of
    {glue:text}`scaling_slope:.3f`. Kaplan et al. report about $-0.076$ for the loss
    against non-embedding parameters of models trained to convergence on a far larger
    data set. Our models are tiny, trained for a fixed small number of steps, and
    character-level, so only the direction, not the exponent, should be compared: with
    more steps the larger models pull further ahead, and at equal steps a larger model also
    costs proportionally more compute.

    ## What training GPT-3 would take

    From its published shape (96 layers, width 12,288, 96 heads, context 2,048
    {cite:p}`brown2020language`, Table 2.1), GPT-3 has {glue:text}`gpt3_params_b:.1f`
    billion parameters. Trained on 300 billion tokens (§2.2), the $6ND$ rule gives its
    training compute:
    """),
    code("""
    n3 = gpt.gpt3_params()
    flops3 = gpt.gpt3_training_flops()
    cpu_flops = hist_torch.tokens_per_second * gpt.flops_per_token(config)  # measured above
    peak = gpt.PEAK_FLOPS["H200"]
    seconds_per_year = 365.25 * 24 * 3600
    print(f"GPT-3 parameters:         {n3:,}")
    print(f"training FLOPs (6·N·D):   {flops3:.3e}")
    print(f"one H200 at its bf16 peak ({peak:.3g} FLOP/s), 100 % utilisation: "
          f"{flops3 / peak / seconds_per_year:.1f} years")
    years_40 = flops3 / (0.4 * peak) / seconds_per_year
    print(f"same, at a realistic 40 % MFU: {years_40:.1f} years")
    print(f"at this page's measured training speed ({cpu_flops:.3g} FLOP/s): "
          f"{flops3 / cpu_flops / seconds_per_year:.3g} years")
    glue("gpt3_params_b", n3 / 1e9, display=False)
    glue("gpt3_flops", flops3, display=False)
    glue("gpt3_years_peak", flops3 / peak / seconds_per_year, display=False)
    glue("gpt3_years_mfu40", flops3 / (0.4 * peak) / seconds_per_year, display=False)
    glue("gpt3_years_here", flops3 / cpu_flops / seconds_per_year, display=False)
    glue("here_flops", cpu_flops, display=False)
    glue("chinchilla_tokens_t", 20 * n3 / 1e12, display=False)  # 20 tokens per parameter
    glue("chinchilla_params_b", gpt.GPT3_TRAINING_TOKENS / 20 / 1e9, display=False)
    """, tags=["nbval-ignore-output"]),
    md("""
    About {glue:text}`gpt3_flops:.2e` floating-point operations (the paper's appendix D
    reports 3.14e23). One H200 GPU at its dense bf16 peak would need
    {glue:text}`gpt3_years_peak:.1f` years, and {glue:text}`gpt3_years_mfu40:.0f` at a
    model-FLOPs utilisation (MFU) of 40 %, the range that well-tuned large runs reach
    (PaLM reported 46.2 % {cite:p}`chowdhery2022palm`).
    At the speed this page measured while training the small model above
    ({glue:text}`here_flops:.2e` FLOP/s; on a CPU when no GPU was present), it would take
    {glue:text}`gpt3_years_here:.2e` years. These are estimates from peak numbers and one
    measurement, not benchmarks of GPT-3 itself; they show why GPT-3 was trained on
    thousands of GPUs at once. The benchmark `python -m bigmodel.bench gpt` measures tokens/s
    and utilisation on your hardware.

    ## Exercises

    1. **Temperature.** Generate 300 characters at temperatures 0.2 and 2.0. Describe what
       goes wrong at each end.

       ```{dropdown} Solution
       `model.generate(torch.as_tensor(prompt, device=device), 300, temperature=0.2, rng=0)`
       repeats a few frequent words and line patterns: dividing the logits by 0.2 sharpens
       the distribution towards the arg-max. At 2.0 the distribution flattens towards
       uniform and the text dissolves into random letters and punctuation.
       ```

    2. **Causality, by hand.** Change the last character of `probe[0]` and check that the
       logits at all earlier positions stay the same. Which line of the model guarantees it?

       ````{dropdown} Solution
       ```python
       x = probe.copy(); x[0, -1] = (x[0, -1] + 1) % tok.vocab_size
       a = model(torch.as_tensor(probe))[0]; b = model(torch.as_tensor(x))[0]
       print(torch.allclose(a[0, :-1], b[0, :-1], atol=1e-6))  # True
       ```
       In PyTorch `is_causal=True` in `scaled_dot_product_attention`; in TensorFlow the
       mask of `bigmodel.tf.gpt.causal_mask`. Everything else acts on one position at a
       time.
       ````

    3. **Count it yourself.** Show that a block of width $C$ with biases has
       $12C^2 + 13C$ parameters, and check `gpt.param_count(config)` against the sum over
       `model.named_parameters()`.

       ```{dropdown} Solution
       Attention: $C \\times 3C$ plus $3C$ (query, key, value) and $C \\times C$ plus $C$
       (output). MLP: $C \\times 4C$ plus $4C$, $4C \\times C$ plus $C$. Two LayerNorms:
       $4C$. Total $12C^2 + 13C$.
       `sum(p.numel() for p in model.parameters()) == gpt.param_count(config)` is `True`;
       the output layer adds nothing because it is the token embedding.
       ```

    4. **Chinchilla.** Hoffmann et al. suggest about 20 training tokens per parameter. How
       many tokens would a compute-optimal model of GPT-3's size need, and how many
       parameters would be compute-optimal for GPT-3's 300 billion tokens?

       ```{dropdown} Solution
       `20 * gpt.gpt3_params()` is {glue:text}`chinchilla_tokens_t:.1f` trillion tokens, more
       than ten times GPT-3's 300 billion; conversely `300e9 / 20` is
       {glue:text}`chinchilla_params_b:.0f` billion parameters. Chinchilla itself
       has 70 billion parameters trained on 1.4 trillion tokens.
       ```

    5. **Longer context.** Set `block_size=128` in `config`, retrain, and compare the
       validation loss and the KV-cache speed-up.

       ```{dropdown} Solution
       `config = config.replace(block_size=128)`, then re-run the cells from "Step 2". The
       model sees more context, so the loss can fall further for the same number of steps
       (each step is also slower). The KV-cache speed-up grows, because uncached generation
       re-processes a longer context for every new character.
       ```
    """),
])
