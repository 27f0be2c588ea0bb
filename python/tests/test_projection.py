"""The numpy projection must equal the compiler's (GaussianProjection.cpp)."""

import re
import subprocess

import numpy as np
import pytest

from conftest import REPO_ROOT, project_tool
from magicpig.projection import simhash_projection, splitmix64

# First row of the 8x6 projection `magicpig-opt --magicpig-sparsify=
# "lsh-bits=2 lsh-tables=3 seed=7"` embeds (printed with 9 digits).
SEED7_ROW0 = [1.36499226, 0.144521222, -0.396523982, -0.227596313,
              0.00449852599, 1.25943303]
SEED7_ROW7 = [1.2947396, 0.498194754, -1.07331955, 2.29766321, 0.528650463,
              -0.992347955]


def test_splitmix64_reference_values():
    # splitmix64 from seed 0: the generator's published first outputs.
    assert [int(x) for x in splitmix64(0, 3)] == [
        0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_projection_matches_compiler_constant():
    p = simhash_projection(head_dim=8, lsh_bits=2, lsh_tables=3, seed=7)
    assert p.shape == (8, 6) and p.dtype == np.float32
    np.testing.assert_allclose(p[0], SEED7_ROW0, rtol=1e-7)
    np.testing.assert_allclose(p[7], SEED7_ROW7, rtol=1e-7)


def test_projection_is_standard_normal():
    p = simhash_projection(64, 10, 150, seed=1)
    assert abs(p.mean()) < 0.01 and abs(p.std() - 1) < 0.01


@pytest.mark.skipif(project_tool("magicpig-opt") is None, reason="magicpig-opt not built")
def test_projection_matches_magicpig_opt_output():
    out = subprocess.run(
        [project_tool("magicpig-opt"),
         f"{REPO_ROOT}/test/Transforms/sparsify/magicpig-sparsify.mlir",
         "--magicpig-sparsify=lsh-bits=2 lsh-tables=3 seed=7"],
        capture_output=True, text=True).stdout
    match = re.search(r"dense<(\[\[.*?\]\])> : tensor<8x6xf32>", out)
    assert match, "no 8x6 projection constant in the output"
    printed = np.array(eval(match.group(1)), dtype=np.float64)
    np.testing.assert_allclose(simhash_projection(8, 2, 3, 7), printed, rtol=1e-7)
