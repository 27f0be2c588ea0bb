// Bad invocations fail with one line naming the problem.
// RUN: not magicpig-compile %S/Inputs/does-not-exist.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not magicpig-compile %S/Inputs/axpy.mlir -o %t.so --attention=sparse 2>&1 | FileCheck %s --check-prefix=ATTENTION
// RUN: not magicpig-compile %S/Inputs/axpy.mlir -o %t.so --lowering-pipeline=no-such-pass 2>&1 | FileCheck %s --check-prefix=PIPELINE
// RUN: not magicpig-compile %s -o %t.so 2>&1 | FileCheck %s --check-prefix=PARSE
// RUN: not magicpig-compile %S/Inputs/axpy.mlir -o %t.so --lsh-bits=0 2>&1 | FileCheck %s --check-prefix=OPTION
// Options and the output path are checked before the input is read (here:
// an input that does not exist), since the later stages take a minute.
// RUN: not magicpig-compile %S/Inputs/does-not-exist.mlir -o %t.so --min-collisions=200 2>&1 | FileCheck %s --check-prefix=EARLY-OPTION
// RUN: not magicpig-compile %S/Inputs/does-not-exist.mlir -o %t.so --dense-layers=-2 2>&1 | FileCheck %s --check-prefix=EARLY-DENSE
// RUN: not magicpig-compile %S/Inputs/does-not-exist.mlir -o %t.so --lowering-pipeline=no-such-pass 2>&1 | FileCheck %s --check-prefix=PIPELINE
// RUN: not magicpig-compile %S/Inputs/does-not-exist.mlir -o %t.missing/lib.so 2>&1 | FileCheck %s --check-prefix=OUTDIR
// RUN: not magicpig-compile %S/Inputs/does-not-exist.mlir -o %S 2>&1 | FileCheck %s --check-prefix=OUTISDIR
// The chip must be one LLVM's NVPTX backend knows (else instruction
// selection aborts), listed in the error.
// RUN: not magicpig-compile %S/Inputs/does-not-exist.mlir -o %t.mlir --emit=mlir --target=cuda --chip=sm_85 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not magicpig-compile %S/Inputs/does-not-exist.mlir -o %t.mlir --emit=mlir --target=cuda --chip=sm_1000 2>&1 | FileCheck %s --check-prefix=CHIP1000
// RUN: not magicpig-compile %S/Inputs/does-not-exist.mlir -o %t.mlir --emit=mlir --target=cuda --chip=sm_0080 2>&1 | FileCheck %s --check-prefix=CHIP0080
// An input without an entry point would give an empty library.
// RUN: printf '' > %t.empty.mlir
// RUN: not magicpig-compile %t.empty.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=EMPTY
// --attention=magicpig on a module without attention warns that the graph
// is exact; --require-sparse makes it an error.
// RUN: magicpig-compile %S/Inputs/axpy.mlir -o %t.mlir --emit=mlir --quiet 2>&1 | FileCheck %s --check-prefix=NOSPARSE
// RUN: not magicpig-compile %S/Inputs/axpy.mlir -o %t.mlir --emit=mlir --quiet --require-sparse 2>&1 | FileCheck %s --check-prefix=REQUIRE
// RUN: not magicpig-compile %S/Inputs/axpy.mlir -o %t.so --weight-type=f16 2>&1 | FileCheck %s --check-prefix=WEIGHTS
// RUN: not magicpig-compile %S/Inputs/axpy.mlir -o %t.so --kv-type=f64 2>&1 | FileCheck %s --check-prefix=KV
// RUN: not magicpig-compile %S/Inputs/axpy.mlir -o %t.so --min-weight-elements=0 2>&1 | FileCheck %s --check-prefix=LEAST
// RUN: not magicpig-compile %S/Inputs/axpy.mlir -o %t.so --parallel-token-loops --target=cuda 2>&1 | FileCheck %s --check-prefix=TOKENS
// RUN: not magicpig-compile %S/Inputs/axpy.mlir -o %t.so --parallel-token-loops --lowering-pipeline=canonicalize 2>&1 | FileCheck %s --check-prefix=TOKENS

// TOKENS: magicpig-compile: error: --parallel-token-loops configures the default CPU pipeline; it does not combine with --target=cuda or --lowering-pipeline
// WEIGHTS: magicpig-compile: error: --weight-type must be f32 or bf16, got 'f16'
// KV: magicpig-compile: error: --kv-type must be f32, bf16 or f16, got 'f64'
// LEAST: magicpig-compile: error: --min-weight-elements must be >= 1
// MISSING: magicpig-compile: error: cannot open input file '{{.*}}does-not-exist.mlir'
// ATTENTION: magicpig-compile: error: --attention must be 'magicpig' or 'dense', got 'sparse'
// PIPELINE: magicpig-compile: error: bad pipeline 'no-such-pass'
// PARSE: errors.mlir:[[# @LINE + 12]]:{{[0-9]+}}: error: operation being parsed with an unregistered dialect
// OPTION: magicpig-compile: error: option 'lsh-bits' must be in [1, 16], got 0
// EARLY-OPTION: magicpig-compile: error: option 'min-collisions' must be in [1, lsh-tables = 150], got 200
// EARLY-DENSE: magicpig-compile: error: option 'dense-layers' must name layers >= 0 (or be -1 alone to keep none dense), got -2
// OUTDIR: magicpig-compile: error: cannot write '{{.*}}.missing/lib.so': no directory '{{.*}}.missing'
// OUTISDIR: magicpig-compile: error: cannot write '{{.*}}': it is a directory
// CHIP: magicpig-compile: error: --chip: chip 'sm_85' is not an NVIDIA chip the NVPTX backend knows; valid: sm_80, sm_86, {{.*}}sm_90, sm_90a, sm_100
// CHIP1000: error: --chip: chip 'sm_1000' is not an NVIDIA chip the NVPTX backend knows
// CHIP0080: error: --chip: chip 'sm_0080' is not an NVIDIA chip the NVPTX backend knows
// EMPTY: magicpig-compile: error: '{{.*}}.empty.mlir' defines no entry point (a public func.func with a body): nothing to compile
// NOSPARSE: magicpig-compile: warning: --attention=magicpig, but no layer was sparsified (no attention was raised, or every layer is dense): the graph is exact
// REQUIRE: magicpig-compile: error: --attention=magicpig, but no layer was sparsified (no attention was raised, or every layer is dense) and --require-sparse is set
%x = "not.an_op"() : () -> i32
