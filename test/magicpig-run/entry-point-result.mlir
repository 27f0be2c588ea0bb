// -entry-point-result makes the runner print what the entry function returns,
// as mlir-runner does.

// RUN: magicpig-opt %s --convert-arith-to-llvm --convert-func-to-llvm \
// RUN:   --reconcile-unrealized-casts -o %t.mlir
// RUN: magicpig-run %t.mlir -e answer32 -entry-point-result=i32 \
// RUN: | FileCheck %s --check-prefix=I32
// RUN: magicpig-run %t.mlir -e answer64 -entry-point-result=i64 \
// RUN: | FileCheck %s --check-prefix=I64
// RUN: magicpig-run %t.mlir -e half -entry-point-result=f32 \
// RUN: | FileCheck %s --check-prefix=F32
// f32 is the default, as in mlir-runner.
// RUN: magicpig-run %t.mlir -e half | FileCheck %s --check-prefix=F32

// I32: {{^}}-42{{$}}
// I64: {{^}}8589934592{{$}}
// F32: {{^}}5.000000e-01{{$}}

func.func @answer32() -> i32 {
  %c = arith.constant -42 : i32
  return %c : i32
}

func.func @answer64() -> i64 {
  %c = arith.constant 8589934592 : i64
  return %c : i64
}

func.func @half() -> f32 {
  %c = arith.constant 0.5 : f32
  return %c : f32
}
