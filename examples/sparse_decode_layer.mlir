// A MagicPIG decode step on one attention layer, next to exact attention.
//
// Keys have the structure of a real cache (a shared offset, two dominant
// directions and per-token variation, all from sin/cos of the position) and
// a few keys point along the query. The prefill side builds the index
// (center, norms, SimHash, tables); the decode side hashes the query,
// retrieves, estimates, attends the sink + window exactly and merges. main
// prints the sampled output's relative L2 error against exact attention and
// the fraction of keys retrieved.
//
//   magicpig-opt --magicpig-cpu-pipeline examples/sparse_decode_layer.mlir |
//     magicpig-run -e main -entry-point-result=void

!q = tensor<1x4x64xf32>
!kv = tensor<1x2x4096x64xf32>

func.func private @printMemrefF32(tensor<*xf32>)

// Deterministic structured inputs: element (g, j, i) of the keys.
func.func @make_keys() -> !kv {
  %keys = tensor.generate {
  ^bb0(%b: index, %g: index, %j: index, %i: index):
    %gi = arith.index_cast %g : index to i32
    %ji = arith.index_cast %j : index to i32
    %ii = arith.index_cast %i : index to i32
    %gf = arith.sitofp %gi : i32 to f32
    %jf = arith.sitofp %ji : i32 to f32
    %if = arith.sitofp %ii : i32 to f32
    %c1 = arith.constant 1.3 : f32
    %c2 = arith.constant 0.37 : f32
    %c3 = arith.constant 0.011 : f32
    %c4 = arith.constant 2.0 : f32
    // shared offset per (head, dim)
    %o0 = arith.mulf %if, %c1 : f32
    %o1 = arith.addf %o0, %gf : f32
    %offset = math.sin %o1 : f32
    // two directions weighted by slowly varying coefficients
    %a0 = arith.mulf %jf, %c3 : f32
    %w0 = math.cos %a0 : f32
    %d0 = arith.mulf %if, %c2 : f32
    %dir0 = math.sin %d0 : f32
    %t0 = arith.mulf %w0, %dir0 : f32
    // per-token variation
    %v0 = arith.mulf %jf, %c1 : f32
    %v1 = arith.mulf %if, %c4 : f32
    %v2 = arith.addf %v0, %v1 : f32
    %var = math.sin %v2 : f32
    %s0 = arith.addf %offset, %t0 : f32
    %s1 = arith.addf %s0, %var : f32
    tensor.yield %s1 : f32
  } : !kv
  return %keys : !kv
}

func.func @make_values() -> !kv {
  %values = tensor.generate {
  ^bb0(%b: index, %g: index, %j: index, %i: index):
    %ji = arith.index_cast %j : index to i32
    %ii = arith.index_cast %i : index to i32
    %jf = arith.sitofp %ji : i32 to f32
    %if = arith.sitofp %ii : i32 to f32
    %c = arith.constant 0.731 : f32
    %x0 = arith.mulf %jf, %c : f32
    %x1 = arith.addf %x0, %if : f32
    %x2 = math.cos %x1 : f32
    // Real value vectors share a per-dimension mean; without one, diffuse
    // attention averages to ~0 and relative errors say little.
    %d0 = arith.constant 0.2 : f32
    %d1 = arith.mulf %if, %d0 : f32
    %mu = math.sin %d1 : f32
    %x3 = arith.addf %x2, %mu : f32
    tensor.yield %x3 : f32
  } : !kv
  return %values : !kv
}

func.func @make_query() -> !q {
  %query = tensor.generate {
  ^bb0(%b: index, %h: index, %i: index):
    %hi = arith.index_cast %h : index to i32
    %ii = arith.index_cast %i : index to i32
    %hf = arith.sitofp %hi : i32 to f32
    %if = arith.sitofp %ii : i32 to f32
    %c = arith.constant 0.37 : f32
    %c3 = arith.constant 3.0 : f32
    %x0 = arith.mulf %if, %c : f32
    %x1 = math.sin %x0 : f32
    %x2 = arith.addf %if, %hf : f32
    %x3 = math.cos %x2 : f32
    %x4 = arith.mulf %x1, %c3 : f32
    %x5 = arith.addf %x4, %x3 : f32
    tensor.yield %x5 : f32
  } : !q
  return %query : !q
}

// A uniform in (0, 1] from an integer hash of x (multiply-xorshift mixing).
func.func @hash_uniform(%x: i32) -> f32 {
  %m1 = arith.constant 0x7feb352d : i32
  %m2 = arith.constant 0x846ca68b : i32
  %s16 = arith.constant 16 : i32
  %s15 = arith.constant 15 : i32
  %a0 = arith.shrui %x, %s16 : i32
  %a1 = arith.xori %x, %a0 : i32
  %a2 = arith.muli %a1, %m1 : i32
  %a3 = arith.shrui %a2, %s15 : i32
  %a4 = arith.xori %a2, %a3 : i32
  %a5 = arith.muli %a4, %m2 : i32
  %a6 = arith.shrui %a5, %s16 : i32
  %a7 = arith.xori %a5, %a6 : i32
  %s8 = arith.constant 8 : i32
  %top = arith.shrui %a7, %s8 : i32
  %one = arith.constant 1 : i32
  %nz = arith.addi %top, %one : i32
  %f = arith.uitofp %nz : i32 to f32
  %inv = arith.constant 5.9604645e-08 : f32
  %u = arith.mulf %f, %inv : f32
  return %u : f32
}

func.func @main() {
  %q = call @make_query() : () -> !q
  %k = call @make_keys() : () -> !kv
  %v = call @make_values() : () -> !kv

  // Exact attention over all 4096 keys.
  %exact_init = tensor.empty() : !q
  %exact = magicpig.attention scale(0.125) ins(%q, %k, %v : !q, !kv, !kv)
             outs(%exact_init : !q) -> !q

  // Prefill: the index (K = 8 bits, L = 32 tables, sink 4, window 64).
  %c_init = tensor.empty() : !kv
  %m_init = tensor.empty() : tensor<1x2x64xf32>
  %centered, %mean = magicpig.center_keys sink(4) window(64) ins(%k : !kv)
      outs(%c_init, %m_init : !kv, tensor<1x2x64xf32>) -> !kv, tensor<1x2x64xf32>
  %n_init = tensor.empty() : tensor<1x2x4096xf32>
  %norms = magicpig.key_norms ins(%centered : !kv) outs(%n_init : tensor<1x2x4096xf32>)
      -> tensor<1x2x4096xf32>
  // SimHash projection: standard normals from an integer hash of the
  // position (Box-Muller on two hashed uniforms), so the tables behave like
  // independent random hyperplanes.
  %proj = tensor.generate {
  ^bb0(%r: index, %c: index):
    %ri = arith.index_cast %r : index to i32
    %ci = arith.index_cast %c : index to i32
    %c256 = arith.constant 256 : i32
    %row = arith.muli %ri, %c256 : i32
    %x = arith.addi %row, %ci : i32
    %u1 = func.call @hash_uniform(%x) : (i32) -> f32
    %salt = arith.constant 1000003 : i32
    %x2 = arith.addi %x, %salt : i32
    %u2 = func.call @hash_uniform(%x2) : (i32) -> f32
    %m2 = arith.constant -2.0 : f32
    %lg = math.log %u1 : f32
    %r2 = arith.mulf %m2, %lg : f32
    %rad = math.sqrt %r2 : f32
    %twopi = arith.constant 6.28318530718 : f32
    %ang = arith.mulf %twopi, %u2 : f32
    %cs = math.cos %ang : f32
    %g = arith.mulf %rad, %cs : f32
    tensor.yield %g : f32
  } : tensor<64x256xf32>
  %kc_init = tensor.empty() : tensor<1x2x4096x32xi32>
  %kcodes = magicpig.simhash bits(8) tables(32) ins(%centered, %proj : !kv, tensor<64x256xf32>)
      outs(%kc_init : tensor<1x2x4096x32xi32>) -> tensor<1x2x4096x32xi32>
  %off_init = tensor.empty() : tensor<1x2x32x257xi32>
  %idx_init = tensor.empty() : tensor<1x2x32x4096xi32>
  %offsets, %indices = magicpig.build_tables bits(8) sink(4) window(64)
      ins(%kcodes : tensor<1x2x4096x32xi32>)
      outs(%off_init, %idx_init : tensor<1x2x32x257xi32>, tensor<1x2x32x4096xi32>)
      -> tensor<1x2x32x257xi32>, tensor<1x2x32x4096xi32>

  // Decode: hash the query, retrieve (>= 2 collisions), estimate, window, merge.
  %qc_init = tensor.empty() : tensor<1x4x32xi32>
  %qcodes = magicpig.simhash bits(8) tables(32) ins(%q, %proj : !q, tensor<64x256xf32>)
      outs(%qc_init : tensor<1x4x32xi32>) -> tensor<1x4x32xi32>
  %cand_init = tensor.empty() : tensor<1x4x4096xi32>
  %cnt_init = tensor.empty() : tensor<1x4xi32>
  %cand, %counts = magicpig.retrieve bits(8) min_collisions(2)
      ins(%qcodes, %offsets, %indices : tensor<1x4x32xi32>, tensor<1x2x32x257xi32>, tensor<1x2x32x4096xi32>)
      outs(%cand_init, %cnt_init : tensor<1x4x4096xi32>, tensor<1x4xi32>)
      -> tensor<1x4x4096xi32>, tensor<1x4xi32>
  %o_init = tensor.empty() : !q
  %l_init = tensor.empty() : tensor<1x4xf32>
  %o_s, %l_s = magicpig.estimate bits(8) tables(32) min_collisions(2) scale(0.125)
      ins(%q, %k, %v, %norms, %mean, %cand, %counts : !q, !kv, !kv, tensor<1x2x4096xf32>,
          tensor<1x2x64xf32>, tensor<1x4x4096xi32>, tensor<1x4xi32>)
      outs(%o_init, %l_init : !q, tensor<1x4xf32>) -> !q, tensor<1x4xf32>
  %ws = arith.constant 4032 : index
  %o_w, %l_w = magicpig.window_attention sink(4) window_start(%ws) scale(0.125)
      ins(%q, %k, %v : !q, !kv, !kv) outs(%o_init, %l_init : !q, tensor<1x4xf32>)
      -> !q, tensor<1x4xf32>
  %out, %lse = magicpig.merge ins(%o_s, %l_s, %o_w, %l_w : !q, tensor<1x4xf32>, !q, tensor<1x4xf32>)
      outs(%o_init, %l_init : !q, tensor<1x4xf32>) -> !q, tensor<1x4xf32>

  // Relative L2 error per head and the fraction of the 4096 keys retrieved.
  %zero = arith.constant dense<0.0> : tensor<4xf32>
  %err2, %ref2 = linalg.generic {
      indexing_maps = [affine_map<(h, i) -> (0, h, i)>, affine_map<(h, i) -> (0, h, i)>,
                       affine_map<(h, i) -> (h)>, affine_map<(h, i) -> (h)>],
      iterator_types = ["parallel", "reduction"]}
      ins(%out, %exact : !q, !q) outs(%zero, %zero : tensor<4xf32>, tensor<4xf32>) {
  ^bb0(%a: f32, %e: f32, %acc_err: f32, %acc_ref: f32):
    %d = arith.subf %a, %e : f32
    %d2 = arith.mulf %d, %d : f32
    %e2 = arith.mulf %e, %e : f32
    %s0 = arith.addf %acc_err, %d2 : f32
    %s1 = arith.addf %acc_ref, %e2 : f32
    linalg.yield %s0, %s1 : f32, f32
  } -> (tensor<4xf32>, tensor<4xf32>)
  %rel = linalg.generic {
      indexing_maps = [affine_map<(h) -> (h)>, affine_map<(h) -> (h)>, affine_map<(h) -> (h)>],
      iterator_types = ["parallel"]}
      ins(%err2, %ref2 : tensor<4xf32>, tensor<4xf32>) outs(%zero : tensor<4xf32>) {
  ^bb0(%e: f32, %r: f32, %o: f32):
    %x = arith.divf %e, %r : f32
    %y = math.sqrt %x : f32
    linalg.yield %y : f32
  } -> tensor<4xf32>
  %fraction = linalg.generic {
      indexing_maps = [affine_map<(h) -> (0, h)>, affine_map<(h) -> (h)>],
      iterator_types = ["parallel"]}
      ins(%counts : tensor<1x4xi32>) outs(%zero : tensor<4xf32>) {
  ^bb0(%c: i32, %o: f32):
    %cf = arith.sitofp %c : i32 to f32
    %n = arith.constant 4096.0 : f32
    %x = arith.divf %cf, %n : f32
    linalg.yield %x : f32
  } -> tensor<4xf32>
  %rel_u = tensor.cast %rel : tensor<4xf32> to tensor<*xf32>
  %frac_u = tensor.cast %fraction : tensor<4xf32> to tensor<*xf32>
  call @printMemrefF32(%rel_u) : (tensor<*xf32>) -> ()
  call @printMemrefF32(%frac_u) : (tensor<*xf32>) -> ()
  return
}
