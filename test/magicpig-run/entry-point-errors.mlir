// An entry function the runner cannot call is reported with a one-line
// reason and a non-zero exit, before anything is compiled.

// RUN: not magicpig-run %s -e missing -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=MISSING
// MISSING: magicpig-run: entry function 'missing' not found in the input

// RUN: not magicpig-run %s -e main -entry-point-result=i32 2>&1 \
// RUN: | FileCheck %s --check-prefix=WRONG-RESULT
// WRONG-RESULT: magicpig-run: entry function 'main' returns void but -entry-point-result=i32 was given

// RUN: not magicpig-run %s -e seven -entry-point-result=f32 2>&1 \
// RUN: | FileCheck %s --check-prefix=WRONG-TYPE
// WRONG-TYPE: magicpig-run: entry function 'seven' returns i64 but -entry-point-result=f32 was given

// RUN: not magicpig-run %s -e main -entry-point-result=f64 2>&1 \
// RUN: | FileCheck %s --check-prefix=BAD-KIND
// BAD-KIND: magicpig-run: unsupported -entry-point-result=f64 (expected void, i32, i64 or f32)

// RUN: not magicpig-run %s -e twice -entry-point-result=i64 2>&1 \
// RUN: | FileCheck %s --check-prefix=ARGS
// ARGS: magicpig-run: entry function 'twice' has type !llvm.func<i64 (i64)>; only functions without arguments can be called

// RUN: not magicpig-run %s -e external -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=DECLARED
// DECLARED: magicpig-run: entry function 'external' is only declared, it has no body

// RUN: not magicpig-run %s -e unlowered -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=UNLOWERED
// UNLOWERED: magicpig-run: entry function 'unlowered' is a 'func.func', not an 'llvm.func'; lower the input to the LLVM dialect first

// RUN: not magicpig-run %s -e main -entry-point-result=void -O4 2>&1 \
// RUN: | FileCheck %s --check-prefix=OPT-LEVEL
// OPT-LEVEL: magicpig-run: unsupported optimization level -O4 (expected -O0 .. -O3)

llvm.func @main() {
  llvm.return
}

llvm.func @seven() -> i64 {
  %c = llvm.mlir.constant(7 : i64) : i64
  llvm.return %c : i64
}

llvm.func @twice(%x: i64) -> i64 {
  %y = llvm.add %x, %x : i64
  llvm.return %y : i64
}

llvm.func @external()

func.func @unlowered() {
  return
}
