// Bad invocations fail with one line naming the problem.
// RUN: not magicpig-compile %S/Inputs/does-not-exist.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not magicpig-compile %S/Inputs/axpy.mlir -o %t.so --attention=sparse 2>&1 | FileCheck %s --check-prefix=ATTENTION
// RUN: not magicpig-compile %S/Inputs/axpy.mlir -o %t.so --lowering-pipeline=no-such-pass 2>&1 | FileCheck %s --check-prefix=PIPELINE
// RUN: not magicpig-compile %s -o %t.so 2>&1 | FileCheck %s --check-prefix=PARSE
// RUN: not magicpig-compile %S/Inputs/axpy.mlir -o %t.so --lsh-bits=0 2>&1 | FileCheck %s --check-prefix=OPTION
// RUN: not magicpig-compile %S/Inputs/axpy.mlir -o %t.so --weight-type=f16 2>&1 | FileCheck %s --check-prefix=WEIGHTS
// RUN: not magicpig-compile %S/Inputs/axpy.mlir -o %t.so --min-weight-elements=0 2>&1 | FileCheck %s --check-prefix=LEAST
// RUN: not magicpig-compile %S/Inputs/axpy.mlir -o %t.so --parallel-token-loops --target=cuda 2>&1 | FileCheck %s --check-prefix=TOKENS
// RUN: not magicpig-compile %S/Inputs/axpy.mlir -o %t.so --parallel-token-loops --lowering-pipeline=canonicalize 2>&1 | FileCheck %s --check-prefix=TOKENS

// TOKENS: magicpig-compile: error: --parallel-token-loops configures the default CPU pipeline; it does not combine with --target=cuda or --lowering-pipeline
// WEIGHTS: magicpig-compile: error: --weight-type must be f32 or bf16, got 'f16'
// LEAST: magicpig-compile: error: --min-weight-elements must be >= 1
// MISSING: magicpig-compile: error: cannot open input file '{{.*}}does-not-exist.mlir'
// ATTENTION: magicpig-compile: error: --attention must be 'magicpig' or 'dense', got 'sparse'
// PIPELINE: magicpig-compile: error: bad pipeline 'no-such-pass'
// PARSE: errors.mlir:[[# @LINE + 2]]:{{[0-9]+}}: error: operation being parsed with an unregistered dialect
// OPTION: error: magicpig-sparsify: option 'lsh-bits' must be in [1, 16], got 0
%x = "not.an_op"() : () -> i32
