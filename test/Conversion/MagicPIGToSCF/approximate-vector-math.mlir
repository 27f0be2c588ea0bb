// magicpig-approximate-vector-math: vector exp/log/acos become polynomial
// code on the same vectors (no math op left to become a libm call per
// lane); f16 vectors are computed in f32; scalar math is left to libm.
//
// RUN: magicpig-opt %s --magicpig-approximate-vector-math | FileCheck %s

// CHECK-LABEL: func.func @vector_math
// CHECK-SAME: %[[X:[a-zA-Z0-9]+]]: vector<16xf32>
// CHECK-NOT: math.exp
// CHECK-NOT: math.log
// CHECK-NOT: math.acos
// CHECK-NOT: math.asin
// CHECK: math.fma {{.*}} : vector<16xf32>
// CHECK: return
func.func @vector_math(%x: vector<16xf32>) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>) {
  %e = math.exp %x : vector<16xf32>
  %l = math.log %x : vector<16xf32>
  %a = math.acos %x : vector<16xf32>
  return %e, %l, %a : vector<16xf32>, vector<16xf32>, vector<16xf32>
}

// CHECK-LABEL: func.func @f16_vector
// CHECK: arith.extf %{{.+}} : vector<8xf16> to vector<8xf32>
// CHECK-NOT: math.exp
// CHECK: arith.truncf %{{.+}} : vector<8xf32> to vector<8xf16>
func.func @f16_vector(%x: vector<8xf16>) -> vector<8xf16> {
  %e = math.exp %x : vector<8xf16>
  return %e : vector<8xf16>
}

// CHECK-LABEL: func.func @scalars
// CHECK: math.exp %{{.+}} : f32
// CHECK: math.acos %{{.+}} : f32
func.func @scalars(%x: f32) -> (f32, f32) {
  %e = math.exp %x : f32
  %a = math.acos %x : f32
  return %e, %a : f32, f32
}
