"""The GPT training loops name the split and the fix when the tokens are wrong."""

from __future__ import annotations

import numpy as np
import pytest

from bigmodel.book import quiet_tensorflow

quiet_tensorflow()

from bigmodel.gpt import GPTConfig  # noqa: E402
from bigmodel.gpt_train import TrainConfig  # noqa: E402
from bigmodel.tf import gpt as tf_gpt  # noqa: E402
from bigmodel.tf import gpt_train as tf_train  # noqa: E402
from bigmodel.torch import gpt as torch_gpt  # noqa: E402
from bigmodel.torch import gpt_train as torch_train  # noqa: E402

CFG = GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=16)
RUN = TrainConfig(max_steps=1, batch_size=2, eval_interval=1, eval_iters=1)
LOOPS = [(torch_gpt, torch_train), (tf_gpt, tf_train)]
IDS = ["torch", "tf"]
TOKENS = np.random.default_rng(0).integers(0, 11, 2000)


@pytest.mark.parametrize(("gpt", "loop"), LOOPS, ids=IDS)
def test_a_2d_token_array_is_named(gpt, loop):
    with pytest.raises(ValueError, match=r"train tokens have shape \(40, 50\).*reshape\(-1\)"):
        loop.train(gpt.GPT(CFG, seed=0), TOKENS.reshape(40, 50), TOKENS, RUN, show_progress=False)


@pytest.mark.parametrize(("gpt", "loop"), LOOPS, ids=IDS)
def test_a_short_validation_split_is_named(gpt, loop):
    with pytest.raises(ValueError, match=r"the val split has 5 tokens; a window needs block_size \+ 1 = 9"):
        loop.train(gpt.GPT(CFG, seed=0), TOKENS, TOKENS[:5], RUN, show_progress=False)


@pytest.mark.parametrize(("gpt", "loop"), LOOPS, ids=IDS)
def test_ids_outside_the_vocabulary_are_named(gpt, loop):
    bad = TOKENS.copy()
    bad[7] = 11
    with pytest.raises(ValueError, match=r"train tokens range from 0 to 11; .* 11 ids, 0 to 10"):
        loop.train(gpt.GPT(CFG, seed=0), bad, TOKENS, RUN, show_progress=False)
