// RUN: magicpig-opt %s -split-input-file -verify-diagnostics

// One case per verifier rule; each must be rejected with its own
// diagnostic at the op's location.

// query rank
func.func @case0(%q: tensor<8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<8x64xf32>) {
  // expected-error @+1 {{'query' must have rank 3 ([B, Hq, d]) or 4 ([B, Hq, S, d]), got rank 2}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<8x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<8x64xf32>) -> tensor<8x64xf32>
  return
}

// -----

// mixed semantics
func.func @case1(%q: memref<1x8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<1x8x64xf32>) {
  // expected-error @+1 {{operands must be all ranked tensors or all memrefs, not a mix}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : memref<1x8x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<1x8x64xf32>)
  return
}

// -----

// non-positive scale
func.func @case2(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<1x8x64xf32>) {
  // expected-error @+1 {{'scale' must be positive and finite, got 0}}
  magicpig.attention scale(0.0) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

// key rank
func.func @case3(%q: tensor<1x8x64xf32>, %k: tensor<2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<1x8x64xf32>) {
  // expected-error @+1 {{'key' must have rank 4 ([B, Hkv, N, d]), got rank 3}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

// value rank
func.func @case4(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<2x16x64xf16>, %o: tensor<1x8x64xf32>) {
  // expected-error @+1 {{'value' must have rank 4 ([B, Hkv, N, dv]), got rank 3}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x64xf16>, tensor<2x16x64xf16>) outs(%o : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

// query element type
func.func @case5(%q: tensor<1x8x64xi32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<1x8x64xf32>) {
  // expected-error @+1 {{'query' element type must be f32, f16 or bf16, got 'i32'}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xi32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

// key element type
func.func @case6(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x64xf64>, %v: tensor<1x2x16x64xf64>, %o: tensor<1x8x64xf32>) {
  // expected-error @+1 {{'key' element type must be f32, f16 or bf16, got 'f64'}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x64xf64>, tensor<1x2x16x64xf64>) outs(%o : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

// key/value element types differ
func.func @case7(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xbf16>, %o: tensor<1x8x64xf32>) {
  // expected-error @+1 {{'key' and 'value' must have the same element type, got 'f16' and 'bf16'}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xbf16>) outs(%o : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

// batch query/key
func.func @case8(%q: tensor<1x8x64xf32>, %k: tensor<2x2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<1x8x64xf32>) {
  // expected-error @+1 {{batch mismatch: 'query' has 1 but 'key' has 2}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<2x2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

// batch key/value
func.func @case9(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<2x2x16x64xf16>, %o: tensor<1x8x64xf32>) {
  // expected-error @+1 {{batch mismatch: 'key' has 1 but 'value' has 2}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x64xf16>, tensor<2x2x16x64xf16>) outs(%o : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

// kv heads key/value
func.func @case10(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x4x16x64xf16>, %o: tensor<1x8x64xf32>) {
  // expected-error @+1 {{kv heads mismatch: 'key' has 2 but 'value' has 4}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x64xf16>, tensor<1x4x16x64xf16>) outs(%o : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

// sequence length key/value
func.func @case11(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x8x64xf16>, %o: tensor<1x8x64xf32>) {
  // expected-error @+1 {{sequence length mismatch: 'key' has 16 but 'value' has 8}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x8x64xf16>) outs(%o : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

// head groups
func.func @case12(%q: tensor<1x8x64xf32>, %k: tensor<1x3x16x64xf16>, %v: tensor<1x3x16x64xf16>, %o: tensor<1x8x64xf32>) {
  // expected-error @+1 {{query heads of 'query' (8) must be a multiple of the kv heads of 'key' (3)}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x3x16x64xf16>, tensor<1x3x16x64xf16>) outs(%o : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

// head dim
func.func @case13(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x32xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<1x8x64xf32>) {
  // expected-error @+1 {{head dim mismatch: 'query' has 64 but 'key' has 32}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x32xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

// output rank
func.func @case14(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<1x8x1x64xf32>) {
  // expected-error @+1 {{'output' must have rank 3 ([B, Hq, dv]), got rank 4}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<1x8x1x64xf32>) -> tensor<1x8x1x64xf32>
  return
}

// -----

// output element type
func.func @case15(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<1x8x64xi8>) {
  // expected-error @+1 {{'output' element type must be f32, f16 or bf16, got 'i8'}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<1x8x64xi8>) -> tensor<1x8x64xi8>
  return
}

// -----

// output batch
func.func @case16(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<2x8x64xf32>) {
  // expected-error @+1 {{batch mismatch: 'query' has 1 but 'output' has 2}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<2x8x64xf32>) -> tensor<2x8x64xf32>
  return
}

// -----

// output heads
func.func @case17(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<1x4x64xf32>) {
  // expected-error @+1 {{query heads mismatch: 'query' has 8 but 'output' has 4}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<1x4x64xf32>) -> tensor<1x4x64xf32>
  return
}

// -----

// output value dim
func.func @case18(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<1x8x32xf32>) {
  // expected-error @+1 {{value head dim mismatch: 'value' has 64 but 'output' has 32}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<1x8x32xf32>) -> tensor<1x8x32xf32>
  return
}

// -----

// query length
func.func @case19(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<1x8x2x64xf32>) {
  // expected-error @+1 {{query length mismatch: 'query' has 4 but 'output' has 2}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x4x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<1x8x2x64xf32>) -> tensor<1x8x2x64xf32>
  return
}

// -----

// causal with more queries than keys
func.func @case20(%q: tensor<1x8x32x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<1x8x32x64xf32>) {
  // expected-error @+1 {{causal attention needs at least as many keys (16) as queries (32)}}
  magicpig.attention scale(0.125) causal ins(%q, %k, %v : tensor<1x8x32x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<1x8x32x64xf32>) -> tensor<1x8x32x64xf32>
  return
}

// -----

// window smaller than the query itself
func.func @window_zero(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<1x8x64xf32>) {
  // expected-error @+1 {{'window' must be at least 1 (the query sees itself), got 0}}
  magicpig.attention scale(0.125) window(0) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

// window on many queries without causal
func.func @window_not_causal(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'window' on a [B, Hq, S, d] query needs 'causal' (the window ends at the query's own position)}}
  magicpig.attention scale(0.125) window(8) ins(%q, %k, %v : tensor<1x8x4x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<1x8x4x64xf32>) -> tensor<1x8x4x64xf32>
  return
}

// -----

// missing tensor result
func.func @case21(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<1x8x64xf32>) {
  // expected-error @+1 {{expected the number of tensor results (0) to be equal to the number of output tensors (1)}}
  magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<1x8x64xf32>)
  return
}

// -----

// negative sink
func.func @case22(%k: tensor<1x2x16x8xf32>, %c: tensor<1x2x16x8xf32>, %m: tensor<1x2x8xf32>) {
  // expected-error @+1 {{'sink_tokens' must be >= 0, got -1}}
  magicpig.center_keys sink(-1) window(4) ins(%k : tensor<1x2x16x8xf32>) outs(%c, %m : tensor<1x2x16x8xf32>, tensor<1x2x8xf32>) -> tensor<1x2x16x8xf32>, tensor<1x2x8xf32>
  return
}

// -----

// negative window
func.func @case23(%k: tensor<1x2x16x8xf32>, %c: tensor<1x2x16x8xf32>, %m: tensor<1x2x8xf32>) {
  // expected-error @+1 {{'window_tokens' must be >= 0, got -2}}
  magicpig.center_keys sink(4) window(-2) ins(%k : tensor<1x2x16x8xf32>) outs(%c, %m : tensor<1x2x16x8xf32>, tensor<1x2x8xf32>) -> tensor<1x2x16x8xf32>, tensor<1x2x8xf32>
  return
}

// -----

// centered rank
func.func @case24(%k: tensor<1x2x16x8xf32>, %c: tensor<2x16x8xf32>, %m: tensor<1x2x8xf32>) {
  // expected-error @+1 {{'centered' must have rank 4 ([B, Hkv, N, d]), got rank 3}}
  magicpig.center_keys sink(4) window(4) ins(%k : tensor<1x2x16x8xf32>) outs(%c, %m : tensor<2x16x8xf32>, tensor<1x2x8xf32>) -> tensor<2x16x8xf32>, tensor<1x2x8xf32>
  return
}

// -----

// mean rank
func.func @case25(%k: tensor<1x2x16x8xf32>, %c: tensor<1x2x16x8xf32>, %m: tensor<1x2x1x8xf32>) {
  // expected-error @+1 {{'mean' must have rank 3 ([B, Hkv, d]), got rank 4}}
  magicpig.center_keys sink(4) window(4) ins(%k : tensor<1x2x16x8xf32>) outs(%c, %m : tensor<1x2x16x8xf32>, tensor<1x2x1x8xf32>) -> tensor<1x2x16x8xf32>, tensor<1x2x1x8xf32>
  return
}

// -----

// centered element type
func.func @case26(%k: tensor<1x2x16x8xf32>, %c: tensor<1x2x16x8xi32>, %m: tensor<1x2x8xf32>) {
  // expected-error @+1 {{'centered' element type must be f32, f16 or bf16, got 'i32'}}
  magicpig.center_keys sink(4) window(4) ins(%k : tensor<1x2x16x8xf32>) outs(%c, %m : tensor<1x2x16x8xi32>, tensor<1x2x8xf32>) -> tensor<1x2x16x8xi32>, tensor<1x2x8xf32>
  return
}

// -----

// mean element type
func.func @case27(%k: tensor<1x2x16x8xf32>, %c: tensor<1x2x16x8xf32>, %m: tensor<1x2x8xf16>) {
  // expected-error @+1 {{'mean' element type must be f32, got 'f16'}}
  magicpig.center_keys sink(4) window(4) ins(%k : tensor<1x2x16x8xf32>) outs(%c, %m : tensor<1x2x16x8xf32>, tensor<1x2x8xf16>) -> tensor<1x2x16x8xf32>, tensor<1x2x8xf16>
  return
}

// -----

// centered sequence length
func.func @case28(%k: tensor<1x2x16x8xf32>, %c: tensor<1x2x15x8xf32>, %m: tensor<1x2x8xf32>) {
  // expected-error @+1 {{sequence length mismatch: 'key' has 16 but 'centered' has 15}}
  magicpig.center_keys sink(4) window(4) ins(%k : tensor<1x2x16x8xf32>) outs(%c, %m : tensor<1x2x15x8xf32>, tensor<1x2x8xf32>) -> tensor<1x2x15x8xf32>, tensor<1x2x8xf32>
  return
}

// -----

// mean head dim
func.func @case29(%k: tensor<1x2x16x8xf32>, %c: tensor<1x2x16x8xf32>, %m: tensor<1x2x4xf32>) {
  // expected-error @+1 {{head dim mismatch: 'key' has 8 but 'mean' has 4}}
  magicpig.center_keys sink(4) window(4) ins(%k : tensor<1x2x16x8xf32>) outs(%c, %m : tensor<1x2x16x8xf32>, tensor<1x2x4xf32>) -> tensor<1x2x16x8xf32>, tensor<1x2x4xf32>
  return
}

// -----

// norms rank
func.func @case30(%k: tensor<1x2x16x8xf32>, %n: tensor<1x2x16x1xf32>) {
  // expected-error @+1 {{'norms' must have rank 3 ([B, Hkv, N]), got rank 4}}
  magicpig.key_norms ins(%k : tensor<1x2x16x8xf32>) outs(%n : tensor<1x2x16x1xf32>) -> tensor<1x2x16x1xf32>
  return
}

// -----

// norms element type
func.func @case31(%k: tensor<1x2x16x8xf32>, %n: tensor<1x2x16xbf16>) {
  // expected-error @+1 {{'norms' element type must be f32, got 'bf16'}}
  magicpig.key_norms ins(%k : tensor<1x2x16x8xf32>) outs(%n : tensor<1x2x16xbf16>) -> tensor<1x2x16xbf16>
  return
}

// -----

// norms sequence length
func.func @case32(%k: tensor<1x2x16x8xf32>, %n: tensor<1x2x8xf32>) {
  // expected-error @+1 {{sequence length mismatch: 'key' has 16 but 'norms' has 8}}
  magicpig.key_norms ins(%k : tensor<1x2x16x8xf32>) outs(%n : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  return
}

// -----

// K = 0
func.func @case33(%x: tensor<4x8xf32>, %p: tensor<8x12xf32>, %c: tensor<4x3xi32>) {
  // expected-error @+1 {{'lsh_bits' must be in [1, 16], got 0}}
  magicpig.simhash bits(0) tables(3) ins(%x, %p : tensor<4x8xf32>, tensor<8x12xf32>) outs(%c : tensor<4x3xi32>) -> tensor<4x3xi32>
  return
}

// -----

// K > 16
func.func @case34(%x: tensor<4x8xf32>, %p: tensor<8x12xf32>, %c: tensor<4x3xi32>) {
  // expected-error @+1 {{'lsh_bits' must be in [1, 16], got 17}}
  magicpig.simhash bits(17) tables(3) ins(%x, %p : tensor<4x8xf32>, tensor<8x12xf32>) outs(%c : tensor<4x3xi32>) -> tensor<4x3xi32>
  return
}

// -----

// K < 0: the diagnostic shows the value as written, not as an unsigned i32
func.func @case34_negative(%x: tensor<4x8xf32>, %p: tensor<8x12xf32>, %c: tensor<4x3xi32>) {
  // expected-error @+1 {{'lsh_bits' must be in [1, 16], got -1}}
  magicpig.simhash bits(-1) tables(3) ins(%x, %p : tensor<4x8xf32>, tensor<8x12xf32>) outs(%c : tensor<4x3xi32>) -> tensor<4x3xi32>
  return
}

// -----

// L < 0
func.func @case35_negative(%x: tensor<4x8xf32>, %p: tensor<8x12xf32>, %c: tensor<4x3xi32>) {
  // expected-error @+1 {{'lsh_tables' must be >= 1, got -3}}
  magicpig.simhash bits(4) tables(-3) ins(%x, %p : tensor<4x8xf32>, tensor<8x12xf32>) outs(%c : tensor<4x3xi32>) -> tensor<4x3xi32>
  return
}

// -----

// L = 0
func.func @case35(%x: tensor<4x8xf32>, %p: tensor<8x12xf32>, %c: tensor<4x3xi32>) {
  // expected-error @+1 {{'lsh_tables' must be >= 1, got 0}}
  magicpig.simhash bits(4) tables(0) ins(%x, %p : tensor<4x8xf32>, tensor<8x12xf32>) outs(%c : tensor<4x3xi32>) -> tensor<4x3xi32>
  return
}

// -----

// input element type
func.func @case36(%x: tensor<4x8xi32>, %p: tensor<8x12xf32>, %c: tensor<4x3xi32>) {
  // expected-error @+1 {{'input' element type must be f32, f16 or bf16, got 'i32'}}
  magicpig.simhash bits(4) tables(3) ins(%x, %p : tensor<4x8xi32>, tensor<8x12xf32>) outs(%c : tensor<4x3xi32>) -> tensor<4x3xi32>
  return
}

// -----

// projection element type
func.func @case37(%x: tensor<4x8xf32>, %p: tensor<8x12xf16>, %c: tensor<4x3xi32>) {
  // expected-error @+1 {{'projection' element type must be f32, got 'f16'}}
  magicpig.simhash bits(4) tables(3) ins(%x, %p : tensor<4x8xf32>, tensor<8x12xf16>) outs(%c : tensor<4x3xi32>) -> tensor<4x3xi32>
  return
}

// -----

// code element type too narrow
func.func @case38(%x: tensor<4x8xf32>, %p: tensor<8x12xf32>, %c: tensor<4x3xi2>) {
  // expected-error @+1 {{'codes' element type must be a signless integer of 4 to 64 bits to hold 4-bit codes, got 'i2'}}
  magicpig.simhash bits(4) tables(3) ins(%x, %p : tensor<4x8xf32>, tensor<8x12xf32>) outs(%c : tensor<4x3xi2>) -> tensor<4x3xi2>
  return
}

// -----

// code element type float
func.func @case39(%x: tensor<4x8xf32>, %p: tensor<8x12xf32>, %c: tensor<4x3xf32>) {
  // expected-error @+1 {{'codes' element type must be a signless integer of 4 to 64 bits to hold 4-bit codes, got 'f32'}}
  magicpig.simhash bits(4) tables(3) ins(%x, %p : tensor<4x8xf32>, tensor<8x12xf32>) outs(%c : tensor<4x3xf32>) -> tensor<4x3xf32>
  return
}

// -----

// projection rank
func.func @case40(%x: tensor<4x8xf32>, %p: tensor<96xf32>, %c: tensor<4x3xi32>) {
  // expected-error @+1 {{'projection' must have rank 2 ([d, K * L]), got rank 1}}
  magicpig.simhash bits(4) tables(3) ins(%x, %p : tensor<4x8xf32>, tensor<96xf32>) outs(%c : tensor<4x3xi32>) -> tensor<4x3xi32>
  return
}

// -----

// input rank
func.func @case41(%x: tensor<8xf32>, %p: tensor<8x12xf32>, %c: tensor<3xi32>) {
  // expected-error @+1 {{'input' must have rank >= 2 ([..., d]), got rank 1}}
  magicpig.simhash bits(4) tables(3) ins(%x, %p : tensor<8xf32>, tensor<8x12xf32>) outs(%c : tensor<3xi32>) -> tensor<3xi32>
  return
}

// -----

// codes rank
func.func @case42(%x: tensor<4x8xf32>, %p: tensor<8x12xf32>, %c: tensor<4x1x3xi32>) {
  // expected-error @+1 {{'codes' must have rank 2 ([..., L], the rank of 'input'), got rank 3}}
  magicpig.simhash bits(4) tables(3) ins(%x, %p : tensor<4x8xf32>, tensor<8x12xf32>) outs(%c : tensor<4x1x3xi32>) -> tensor<4x1x3xi32>
  return
}

// -----

// leading dims
func.func @case43(%x: tensor<4x8xf32>, %p: tensor<8x12xf32>, %c: tensor<5x3xi32>) {
  // expected-error @+1 {{leading dim 0 mismatch: 'input' has 4 but 'codes' has 5}}
  magicpig.simhash bits(4) tables(3) ins(%x, %p : tensor<4x8xf32>, tensor<8x12xf32>) outs(%c : tensor<5x3xi32>) -> tensor<5x3xi32>
  return
}

// -----

// projection rows
func.func @case44(%x: tensor<4x8xf32>, %p: tensor<6x12xf32>, %c: tensor<4x3xi32>) {
  // expected-error @+1 {{head dim mismatch: 'input' has 8 but 'projection' has 6}}
  magicpig.simhash bits(4) tables(3) ins(%x, %p : tensor<4x8xf32>, tensor<6x12xf32>) outs(%c : tensor<4x3xi32>) -> tensor<4x3xi32>
  return
}

// -----

// projection columns
func.func @case45(%x: tensor<4x8xf32>, %p: tensor<8x10xf32>, %c: tensor<4x3xi32>) {
  // expected-error @+1 {{'projection' dim 1 (K * L) must be 12, got 10}}
  magicpig.simhash bits(4) tables(3) ins(%x, %p : tensor<4x8xf32>, tensor<8x10xf32>) outs(%c : tensor<4x3xi32>) -> tensor<4x3xi32>
  return
}

// -----

// codes last dim
func.func @case46(%x: tensor<4x8xf32>, %p: tensor<8x12xf32>, %c: tensor<4x2xi32>) {
  // expected-error @+1 {{'codes' last dim (L) must be 3, got 2}}
  magicpig.simhash bits(4) tables(3) ins(%x, %p : tensor<4x8xf32>, tensor<8x12xf32>) outs(%c : tensor<4x2xi32>) -> tensor<4x2xi32>
  return
}

// -----

// build_tables K > 16
func.func @case47(%c: tensor<1x2x16x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xi32>) {
  // expected-error @+1 {{'lsh_bits' must be in [1, 16], got 20}}
  magicpig.build_tables bits(20) sink(2) window(2) ins(%c : tensor<1x2x16x3xi32>) outs(%o, %i : tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>) -> tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>
  return
}

// -----

// build_tables negative sink
func.func @case48(%c: tensor<1x2x16x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xi32>) {
  // expected-error @+1 {{'sink_tokens' must be >= 0, got -4}}
  magicpig.build_tables bits(4) sink(-4) window(2) ins(%c : tensor<1x2x16x3xi32>) outs(%o, %i : tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>) -> tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>
  return
}

// -----

// codes rank
func.func @case49(%c: tensor<2x16x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xi32>) {
  // expected-error @+1 {{'codes' must have rank 4 ([B, Hkv, N, L]), got rank 3}}
  magicpig.build_tables bits(4) sink(2) window(2) ins(%c : tensor<2x16x3xi32>) outs(%o, %i : tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>) -> tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>
  return
}

// -----

// offsets rank
func.func @case50(%c: tensor<1x2x16x3xi32>, %o: tensor<2x3x17xi32>, %i: tensor<1x2x3x16xi32>) {
  // expected-error @+1 {{'offsets' must have rank 4 ([B, Hkv, L, 2^K + 1]), got rank 3}}
  magicpig.build_tables bits(4) sink(2) window(2) ins(%c : tensor<1x2x16x3xi32>) outs(%o, %i : tensor<2x3x17xi32>, tensor<1x2x3x16xi32>) -> tensor<2x3x17xi32>, tensor<1x2x3x16xi32>
  return
}

// -----

// indices rank
func.func @case51(%c: tensor<1x2x16x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<2x3x16xi32>) {
  // expected-error @+1 {{'indices' must have rank 4 ([B, Hkv, L, N]), got rank 3}}
  magicpig.build_tables bits(4) sink(2) window(2) ins(%c : tensor<1x2x16x3xi32>) outs(%o, %i : tensor<1x2x3x17xi32>, tensor<2x3x16xi32>) -> tensor<1x2x3x17xi32>, tensor<2x3x16xi32>
  return
}

// -----

// offsets element type
func.func @case52(%c: tensor<1x2x16x3xi32>, %o: tensor<1x2x3x17xi16>, %i: tensor<1x2x3x16xi32>) {
  // expected-error @+1 {{'offsets' element type must be i32 or i64, got 'i16'}}
  magicpig.build_tables bits(4) sink(2) window(2) ins(%c : tensor<1x2x16x3xi32>) outs(%o, %i : tensor<1x2x3x17xi16>, tensor<1x2x3x16xi32>) -> tensor<1x2x3x17xi16>, tensor<1x2x3x16xi32>
  return
}

// -----

// indices element type
func.func @case53(%c: tensor<1x2x16x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xindex>) {
  // expected-error @+1 {{'indices' element type must be i32 or i64, got 'index'}}
  magicpig.build_tables bits(4) sink(2) window(2) ins(%c : tensor<1x2x16x3xi32>) outs(%o, %i : tensor<1x2x3x17xi32>, tensor<1x2x3x16xindex>) -> tensor<1x2x3x17xi32>, tensor<1x2x3x16xindex>
  return
}

// -----

// offsets tables
func.func @case54(%c: tensor<1x2x16x3xi32>, %o: tensor<1x2x4x17xi32>, %i: tensor<1x2x3x16xi32>) {
  // expected-error @+1 {{tables mismatch: 'codes' has 3 but 'offsets' has 4}}
  magicpig.build_tables bits(4) sink(2) window(2) ins(%c : tensor<1x2x16x3xi32>) outs(%o, %i : tensor<1x2x4x17xi32>, tensor<1x2x3x16xi32>) -> tensor<1x2x4x17xi32>, tensor<1x2x3x16xi32>
  return
}

// -----

// offsets buckets
func.func @case55(%c: tensor<1x2x16x3xi32>, %o: tensor<1x2x3x16xi32>, %i: tensor<1x2x3x16xi32>) {
  // expected-error @+1 {{'offsets' last dim (2^K + 1) must be 17, got 16}}
  magicpig.build_tables bits(4) sink(2) window(2) ins(%c : tensor<1x2x16x3xi32>) outs(%o, %i : tensor<1x2x3x16xi32>, tensor<1x2x3x16xi32>) -> tensor<1x2x3x16xi32>, tensor<1x2x3x16xi32>
  return
}

// -----

// indices sequence length
func.func @case56(%c: tensor<1x2x16x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x12xi32>) {
  // expected-error @+1 {{sequence length mismatch: 'codes' has 16 but 'indices' has 12}}
  magicpig.build_tables bits(4) sink(2) window(2) ins(%c : tensor<1x2x16x3xi32>) outs(%o, %i : tensor<1x2x3x17xi32>, tensor<1x2x3x12xi32>) -> tensor<1x2x3x17xi32>, tensor<1x2x3x12xi32>
  return
}

// -----

// threshold 0
func.func @case57(%qc: tensor<1x4x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xi32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>) {
  // expected-error @+1 {{'min_collisions' must be >= 1, got 0}}
  magicpig.retrieve bits(4) min_collisions(0) ins(%qc, %o, %i : tensor<1x4x3xi32>, tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>) outs(%cand, %cnt : tensor<1x4x8xi32>, tensor<1x4xi32>) -> tensor<1x4x8xi32>, tensor<1x4xi32>
  return
}

// -----

// threshold above L
func.func @case58(%qc: tensor<1x4x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xi32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>) {
  // expected-error @+1 {{'min_collisions' (4) must not exceed the number of tables (3)}}
  magicpig.retrieve bits(4) min_collisions(4) ins(%qc, %o, %i : tensor<1x4x3xi32>, tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>) outs(%cand, %cnt : tensor<1x4x8xi32>, tensor<1x4xi32>) -> tensor<1x4x8xi32>, tensor<1x4xi32>
  return
}

// -----

// query codes rank
func.func @case59(%qc: tensor<4x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xi32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>) {
  // expected-error @+1 {{'query_codes' must have rank 3 ([B, Hq, L]), got rank 2}}
  magicpig.retrieve bits(4) min_collisions(2) ins(%qc, %o, %i : tensor<4x3xi32>, tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>) outs(%cand, %cnt : tensor<1x4x8xi32>, tensor<1x4xi32>) -> tensor<1x4x8xi32>, tensor<1x4xi32>
  return
}

// -----

// query code element type
func.func @case60(%qc: tensor<1x4x3xi2>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xi32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>) {
  // expected-error @+1 {{'query_codes' element type must be a signless integer of 4 to 64 bits to hold 4-bit codes, got 'i2'}}
  magicpig.retrieve bits(4) min_collisions(2) ins(%qc, %o, %i : tensor<1x4x3xi2>, tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>) outs(%cand, %cnt : tensor<1x4x8xi32>, tensor<1x4xi32>) -> tensor<1x4x8xi32>, tensor<1x4xi32>
  return
}

// -----

// retrieve head groups
func.func @case61(%qc: tensor<1x3x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xi32>, %cand: tensor<1x3x8xi32>, %cnt: tensor<1x3xi32>) {
  // expected-error @+1 {{query heads of 'query_codes' (3) must be a multiple of the kv heads of 'offsets' (2)}}
  magicpig.retrieve bits(4) min_collisions(2) ins(%qc, %o, %i : tensor<1x3x3xi32>, tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>) outs(%cand, %cnt : tensor<1x3x8xi32>, tensor<1x3xi32>) -> tensor<1x3x8xi32>, tensor<1x3xi32>
  return
}

// -----

// retrieve tables
func.func @case62(%qc: tensor<1x4x5xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xi32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>) {
  // expected-error @+1 {{tables mismatch: 'query_codes' has 5 but 'offsets' has 3}}
  magicpig.retrieve bits(4) min_collisions(2) ins(%qc, %o, %i : tensor<1x4x5xi32>, tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>) outs(%cand, %cnt : tensor<1x4x8xi32>, tensor<1x4xi32>) -> tensor<1x4x8xi32>, tensor<1x4xi32>
  return
}

// -----

// retrieve K vs offsets
func.func @case63(%qc: tensor<1x4x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xi32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>) {
  // expected-error @+1 {{'offsets' last dim (2^K + 1) must be 33, got 17}}
  magicpig.retrieve bits(5) min_collisions(2) ins(%qc, %o, %i : tensor<1x4x3xi32>, tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>) outs(%cand, %cnt : tensor<1x4x8xi32>, tensor<1x4xi32>) -> tensor<1x4x8xi32>, tensor<1x4xi32>
  return
}

// -----

// retrieve indices tables
func.func @case64(%qc: tensor<1x4x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x2x16xi32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>) {
  // expected-error @+1 {{tables mismatch: 'offsets' has 3 but 'indices' has 2}}
  magicpig.retrieve bits(4) min_collisions(2) ins(%qc, %o, %i : tensor<1x4x3xi32>, tensor<1x2x3x17xi32>, tensor<1x2x2x16xi32>) outs(%cand, %cnt : tensor<1x4x8xi32>, tensor<1x4xi32>) -> tensor<1x4x8xi32>, tensor<1x4xi32>
  return
}

// -----

// candidates rank
func.func @case65(%qc: tensor<1x4x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xi32>, %cand: tensor<4x8xi32>, %cnt: tensor<1x4xi32>) {
  // expected-error @+1 {{'candidates' must have rank 3 ([B, Hq, C]), got rank 2}}
  magicpig.retrieve bits(4) min_collisions(2) ins(%qc, %o, %i : tensor<1x4x3xi32>, tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>) outs(%cand, %cnt : tensor<4x8xi32>, tensor<1x4xi32>) -> tensor<4x8xi32>, tensor<1x4xi32>
  return
}

// -----

// counts rank
func.func @case66(%qc: tensor<1x4x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xi32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4x1xi32>) {
  // expected-error @+1 {{'counts' must have rank 2 ([B, Hq]), got rank 3}}
  magicpig.retrieve bits(4) min_collisions(2) ins(%qc, %o, %i : tensor<1x4x3xi32>, tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>) outs(%cand, %cnt : tensor<1x4x8xi32>, tensor<1x4x1xi32>) -> tensor<1x4x8xi32>, tensor<1x4x1xi32>
  return
}

// -----

// candidates element type
func.func @case67(%qc: tensor<1x4x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xi32>, %cand: tensor<1x4x8xf32>, %cnt: tensor<1x4xi32>) {
  // expected-error @+1 {{'candidates' element type must be i32 or i64, got 'f32'}}
  magicpig.retrieve bits(4) min_collisions(2) ins(%qc, %o, %i : tensor<1x4x3xi32>, tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>) outs(%cand, %cnt : tensor<1x4x8xf32>, tensor<1x4xi32>) -> tensor<1x4x8xf32>, tensor<1x4xi32>
  return
}

// -----

// candidates heads
func.func @case68(%qc: tensor<1x4x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xi32>, %cand: tensor<1x2x8xi32>, %cnt: tensor<1x4xi32>) {
  // expected-error @+1 {{query heads mismatch: 'query_codes' has 4 but 'candidates' has 2}}
  magicpig.retrieve bits(4) min_collisions(2) ins(%qc, %o, %i : tensor<1x4x3xi32>, tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>) outs(%cand, %cnt : tensor<1x2x8xi32>, tensor<1x4xi32>) -> tensor<1x2x8xi32>, tensor<1x4xi32>
  return
}

// -----

// counts batch
func.func @case69(%qc: tensor<1x4x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xi32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<2x4xi32>) {
  // expected-error @+1 {{batch mismatch: 'query_codes' has 1 but 'counts' has 2}}
  magicpig.retrieve bits(4) min_collisions(2) ins(%qc, %o, %i : tensor<1x4x3xi32>, tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>) outs(%cand, %cnt : tensor<1x4x8xi32>, tensor<2x4xi32>) -> tensor<1x4x8xi32>, tensor<2x4xi32>
  return
}

// -----

// threshold < 0
func.func @case57_negative(%qc: tensor<1x4x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x16xi32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>) {
  // expected-error @+1 {{'min_collisions' must be >= 1, got -2}}
  magicpig.retrieve bits(4) min_collisions(-2) ins(%qc, %o, %i : tensor<1x4x3xi32>, tensor<1x2x3x17xi32>, tensor<1x2x3x16xi32>) outs(%cand, %cnt : tensor<1x4x8xi32>, tensor<1x4xi32>) -> tensor<1x4x8xi32>, tensor<1x4xi32>
  return
}

// -----

// estimate L = 0
func.func @case70(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xbf16>, %v: tensor<1x2x16x8xbf16>, %n: tensor<1x2x16xf32>, %m: tensor<1x2x8xf32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{'lsh_tables' must be >= 1, got 0}}
  magicpig.estimate bits(4) tables(0) min_collisions(2) scale(0.35) ins(%q, %k, %v, %n, %m, %cand, %cnt : tensor<1x4x8xf32>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16xf32>, tensor<1x2x8xf32>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// estimate threshold above L
func.func @case71(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xbf16>, %v: tensor<1x2x16x8xbf16>, %n: tensor<1x2x16xf32>, %m: tensor<1x2x8xf32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{'min_collisions' (5) must not exceed the number of tables (3)}}
  magicpig.estimate bits(4) tables(3) min_collisions(5) scale(0.35) ins(%q, %k, %v, %n, %m, %cand, %cnt : tensor<1x4x8xf32>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16xf32>, tensor<1x2x8xf32>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// estimate infinite scale
func.func @case72(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xbf16>, %v: tensor<1x2x16x8xbf16>, %n: tensor<1x2x16xf32>, %m: tensor<1x2x8xf32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{'scale' must be positive and finite, got INF}}
  magicpig.estimate bits(4) tables(3) min_collisions(2) scale(0x7F800000) ins(%q, %k, %v, %n, %m, %cand, %cnt : tensor<1x4x8xf32>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16xf32>, tensor<1x2x8xf32>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// estimate query rank
func.func @case73(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x16x8xbf16>, %v: tensor<1x2x16x8xbf16>, %n: tensor<1x2x16xf32>, %m: tensor<1x2x8xf32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{'query' must have rank 3 ([B, Hq, d]), got rank 4}}
  magicpig.estimate bits(4) tables(3) min_collisions(2) scale(0.35) ins(%q, %k, %v, %n, %m, %cand, %cnt : tensor<1x4x1x8xf32>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16xf32>, tensor<1x2x8xf32>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// key norms rank
func.func @case74(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xbf16>, %v: tensor<1x2x16x8xbf16>, %n: tensor<1x2x16x1xf32>, %m: tensor<1x2x8xf32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{'key_norms' must have rank 3 ([B, Hkv, N]), got rank 4}}
  magicpig.estimate bits(4) tables(3) min_collisions(2) scale(0.35) ins(%q, %k, %v, %n, %m, %cand, %cnt : tensor<1x4x8xf32>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16x1xf32>, tensor<1x2x8xf32>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// key norms element type
func.func @case75(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xbf16>, %v: tensor<1x2x16x8xbf16>, %n: tensor<1x2x16xbf16>, %m: tensor<1x2x8xf32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{'key_norms' element type must be f32, got 'bf16'}}
  magicpig.estimate bits(4) tables(3) min_collisions(2) scale(0.35) ins(%q, %k, %v, %n, %m, %cand, %cnt : tensor<1x4x8xf32>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16xbf16>, tensor<1x2x8xf32>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// key norms longer than keys
func.func @case76(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xbf16>, %v: tensor<1x2x16x8xbf16>, %n: tensor<1x2x17xf32>, %m: tensor<1x2x8xf32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{indexed length of 'key_norms' (17) must not exceed the length of 'key' (16)}}
  magicpig.estimate bits(4) tables(3) min_collisions(2) scale(0.35) ins(%q, %k, %v, %n, %m, %cand, %cnt : tensor<1x4x8xf32>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x17xf32>, tensor<1x2x8xf32>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// key mean rank
func.func @case77(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xbf16>, %v: tensor<1x2x16x8xbf16>, %n: tensor<1x2x16xf32>, %m: tensor<1x2x1x8xf32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{'key_mean' must have rank 3 ([B, Hkv, d]), got rank 4}}
  magicpig.estimate bits(4) tables(3) min_collisions(2) scale(0.35) ins(%q, %k, %v, %n, %m, %cand, %cnt : tensor<1x4x8xf32>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16xf32>, tensor<1x2x1x8xf32>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// key mean element type
func.func @case78(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xbf16>, %v: tensor<1x2x16x8xbf16>, %n: tensor<1x2x16xf32>, %m: tensor<1x2x8xf16>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{'key_mean' element type must be f32, got 'f16'}}
  magicpig.estimate bits(4) tables(3) min_collisions(2) scale(0.35) ins(%q, %k, %v, %n, %m, %cand, %cnt : tensor<1x4x8xf32>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16xf32>, tensor<1x2x8xf16>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// key mean head dim
func.func @case79(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xbf16>, %v: tensor<1x2x16x8xbf16>, %n: tensor<1x2x16xf32>, %m: tensor<1x2x4xf32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{head dim mismatch: 'key' has 8 but 'key_mean' has 4}}
  magicpig.estimate bits(4) tables(3) min_collisions(2) scale(0.35) ins(%q, %k, %v, %n, %m, %cand, %cnt : tensor<1x4x8xf32>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16xf32>, tensor<1x2x4xf32>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// estimate counts element type
func.func @case80(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xbf16>, %v: tensor<1x2x16x8xbf16>, %n: tensor<1x2x16xf32>, %m: tensor<1x2x8xf32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi16>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{'counts' element type must be i32 or i64, got 'i16'}}
  magicpig.estimate bits(4) tables(3) min_collisions(2) scale(0.35) ins(%q, %k, %v, %n, %m, %cand, %cnt : tensor<1x4x8xf32>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16xf32>, tensor<1x2x8xf32>, tensor<1x4x8xi32>, tensor<1x4xi16>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// lse rank
func.func @case81(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xbf16>, %v: tensor<1x2x16x8xbf16>, %n: tensor<1x2x16xf32>, %m: tensor<1x2x8xf32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>, %o: tensor<1x4x8xf32>, %l: tensor<1x4x1xf32>) {
  // expected-error @+1 {{'lse' must have rank 2 ([B, Hq]), got rank 3}}
  magicpig.estimate bits(4) tables(3) min_collisions(2) scale(0.35) ins(%q, %k, %v, %n, %m, %cand, %cnt : tensor<1x4x8xf32>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16xf32>, tensor<1x2x8xf32>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4x1xf32>) -> tensor<1x4x8xf32>, tensor<1x4x1xf32>
  return
}

// -----

// lse element type
func.func @case82(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xbf16>, %v: tensor<1x2x16x8xbf16>, %n: tensor<1x2x16xf32>, %m: tensor<1x2x8xf32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf16>) {
  // expected-error @+1 {{'lse' element type must be f32, got 'f16'}}
  magicpig.estimate bits(4) tables(3) min_collisions(2) scale(0.35) ins(%q, %k, %v, %n, %m, %cand, %cnt : tensor<1x4x8xf32>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16xf32>, tensor<1x2x8xf32>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf16>) -> tensor<1x4x8xf32>, tensor<1x4xf16>
  return
}

// -----

// lse heads
func.func @case83(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xbf16>, %v: tensor<1x2x16x8xbf16>, %n: tensor<1x2x16xf32>, %m: tensor<1x2x8xf32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>, %o: tensor<1x4x8xf32>, %l: tensor<1x2xf32>) {
  // expected-error @+1 {{query heads mismatch: 'output' has 4 but 'lse' has 2}}
  magicpig.estimate bits(4) tables(3) min_collisions(2) scale(0.35) ins(%q, %k, %v, %n, %m, %cand, %cnt : tensor<1x4x8xf32>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16xf32>, tensor<1x2x8xf32>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x2xf32>) -> tensor<1x4x8xf32>, tensor<1x2xf32>
  return
}

// -----

// window negative sink
func.func @case84(%ws: index, %q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{'sink_tokens' must be >= 0, got -1}}
  magicpig.window_attention sink(-1) window_start(%ws) scale(0.35) ins(%q, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// window negative scale
func.func @case85(%ws: index, %q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{'scale' must be positive and finite, got -1}}
  magicpig.window_attention sink(4) window_start(%ws) scale(-1.0) ins(%q, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// window head dim
func.func @case86(%ws: index, %q: tensor<1x4x8xf32>, %k: tensor<1x2x16x4xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{head dim mismatch: 'query' has 8 but 'key' has 4}}
  magicpig.window_attention sink(4) window_start(%ws) scale(0.35) ins(%q, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x4xf16>, tensor<1x2x16x8xf16>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// window output batch
func.func @case87(%ws: index, %q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<3x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{batch mismatch: 'query' has 1 but 'output' has 3}}
  magicpig.window_attention sink(4) window_start(%ws) scale(0.35) ins(%q, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>) outs(%o, %l : tensor<3x4x8xf32>, tensor<1x4xf32>) -> tensor<3x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// merge output_b rank
func.func @case88(%a: tensor<1x4x8xf32>, %la: tensor<1x4xf32>, %b: tensor<4x8xf32>, %lb: tensor<1x4xf32>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{'output_b' must have rank 3 ([B, Hq, dv]), got rank 2}}
  magicpig.merge ins(%a, %la, %b, %lb : tensor<1x4x8xf32>, tensor<1x4xf32>, tensor<4x8xf32>, tensor<1x4xf32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// merge output element type
func.func @case89(%a: tensor<1x4x8xf32>, %la: tensor<1x4xf32>, %b: tensor<1x4x8xf32>, %lb: tensor<1x4xf32>, %o: tensor<1x4x8xi32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{'output' element type must be f32, f16 or bf16, got 'i32'}}
  magicpig.merge ins(%a, %la, %b, %lb : tensor<1x4x8xf32>, tensor<1x4xf32>, tensor<1x4x8xf32>, tensor<1x4xf32>) outs(%o, %l : tensor<1x4x8xi32>, tensor<1x4xf32>) -> tensor<1x4x8xi32>, tensor<1x4xf32>
  return
}

// -----

// merge lse_a element type
func.func @case90(%a: tensor<1x4x8xf32>, %la: tensor<1x4xbf16>, %b: tensor<1x4x8xf32>, %lb: tensor<1x4xf32>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{'lse_a' element type must be f32, got 'bf16'}}
  magicpig.merge ins(%a, %la, %b, %lb : tensor<1x4x8xf32>, tensor<1x4xbf16>, tensor<1x4x8xf32>, tensor<1x4xf32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// merge output shapes
func.func @case91(%a: tensor<1x4x8xf32>, %la: tensor<1x4xf32>, %b: tensor<1x4x6xf32>, %lb: tensor<1x4xf32>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{output shape mismatch: 'output_a' has 8 but 'output_b' has 6}}
  magicpig.merge ins(%a, %la, %b, %lb : tensor<1x4x8xf32>, tensor<1x4xf32>, tensor<1x4x6xf32>, tensor<1x4xf32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// merge lse shape
func.func @case92(%a: tensor<1x4x8xf32>, %la: tensor<1x4xf32>, %b: tensor<1x4x8xf32>, %lb: tensor<1x3xf32>, %o: tensor<1x4x8xf32>, %l: tensor<1x4xf32>) {
  // expected-error @+1 {{lse shape mismatch: 'output_a' has 4 but 'lse_b' has 3}}
  magicpig.merge ins(%a, %la, %b, %lb : tensor<1x4x8xf32>, tensor<1x4xf32>, tensor<1x4x8xf32>, tensor<1x3xf32>) outs(%o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

// a static size whose byte size overflows 64-bit addressing (d = 2^63 - 1)
func.func @case93(%q: memref<1x4x9223372036854775807xf32>, %k: memref<1x2x16x9223372036854775807xf32>, %o: memref<1x4x9223372036854775807xf32>, %l: memref<1x4xf32>, %ws: index) {
  // expected-error @+1 {{'query' of type 'memref<1x4x9223372036854775807xf32>' spans more than 2^63 - 1 bytes, which the target cannot address}}
  magicpig.window_attention sink(4) window_start(%ws) scale(0.35) ins(%q, %k, %k : memref<1x4x9223372036854775807xf32>, memref<1x2x16x9223372036854775807xf32>, memref<1x2x16x9223372036854775807xf32>) outs(%o, %l : memref<1x4x9223372036854775807xf32>, memref<1x4xf32>)
  return
}

// -----

// the same through the product of static sizes, none too large alone
func.func @case94(%k: tensor<4294967296x4294967296x1x8xf16>, %n: tensor<4294967296x4294967296x1xf32>) {
  // expected-error @+1 {{'key' of type 'tensor<4294967296x4294967296x1x8xf16>' spans more than 2^63 - 1 bytes, which the target cannot address}}
  magicpig.key_norms ins(%k : tensor<4294967296x4294967296x1x8xf16>) outs(%n : tensor<4294967296x4294967296x1xf32>) -> tensor<4294967296x4294967296x1xf32>
  return
}

// -----

// lengths of another batch
func.func @case95(%q: tensor<2x4x8xf32>, %k: tensor<2x2x16x8xf32>, %o: tensor<2x4x8xf32>, %len: tensor<3xi64>) {
  // expected-error @+1 {{batch mismatch: 'query' has 2 but 'lengths' has 3}}
  magicpig.attention scale(0.35) lengths(%len : tensor<3xi64>) ins(%q, %k, %k : tensor<2x4x8xf32>, tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>) outs(%o : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return
}

// -----

// lengths that are not integers
func.func @case96(%q: tensor<2x4x8xf32>, %k: tensor<2x2x16x8xf32>, %o: tensor<2x4x8xf32>, %len: tensor<2xf32>) {
  // expected-error @+1 {{'lengths' element type must be i32 or i64, got 'f32'}}
  magicpig.attention scale(0.35) lengths(%len : tensor<2xf32>) ins(%q, %k, %k : tensor<2x4x8xf32>, tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>) outs(%o : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return
}

// -----

// lengths on queries that are not one decode step
func.func @case97(%q: tensor<2x4x3x8xf32>, %k: tensor<2x2x16x8xf32>, %o: tensor<2x4x3x8xf32>, %len: tensor<2xi64>) {
  // expected-error @+1 {{'lengths' needs a decode query ([B, Hq, d] or [B, Hq, 1, d])}}
  magicpig.attention scale(0.35) causal lengths(%len : tensor<2xi64>) ins(%q, %k, %k : tensor<2x4x3x8xf32>, tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>) outs(%o : tensor<2x4x3x8xf32>) -> tensor<2x4x3x8xf32>
  return
}

// -----

// lengths with an empty sliding window
func.func @case98(%q: tensor<2x4x8xf32>, %k: tensor<2x2x16x8xf32>, %o: tensor<2x4x8xf32>, %len: tensor<2xi64>) {
  // expected-error @+1 {{'window' must be at least 1 (the query sees itself), got 0}}
  magicpig.attention scale(0.35) window(0) lengths(%len : tensor<2xi64>) ins(%q, %k, %k : tensor<2x4x8xf32>, tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>) outs(%o : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return
}

// -----

// window starts of rank 2
func.func @case99(%ws: index, %q: tensor<2x4x8xf32>, %k: tensor<2x2x16x8xf32>, %o: tensor<2x4x8xf32>, %l: tensor<2x4xf32>, %s: tensor<2x1xi32>) {
  // expected-error @+1 {{'starts' must have rank 1 ([B]), got rank 2}}
  magicpig.window_attention sink(4) window_start(%ws) starts(%s : tensor<2x1xi32>) scale(0.35) ins(%q, %k, %k : tensor<2x4x8xf32>, tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>) outs(%o, %l : tensor<2x4x8xf32>, tensor<2x4xf32>) -> tensor<2x4x8xf32>, tensor<2x4xf32>
  return
}
