// CSR bucket tables from the lowering checked against brute force, per
// (b, g, l): offsets[0] = 0, offsets[2^K] = |M|, each bucket's size equals
// the number of tokens of M = [sink, N - window) whose code (low K bits)
// is that bucket, its tokens lie in M, have that code and ascend, and the
// entries of indices past |M| are 0. Codes are random 16-bit values, so
// the bits above K must be masked away. Cases: i32/i64 tables, i8/i16
// codes, L not a multiple of the tables sorted per task, dynamic shapes,
// an empty M (N <= sink + window) and sink > N; outputs start as garbage.
//
// The second run: vector width 8 compiled for an AVX2 CPU without AVX-512.
// RUN: magicpig-opt %s --magicpig-cpu-pipeline \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s
// RUN: magicpig-opt %s --magicpig-cpu-pipeline="vector-width=8" \
// RUN: | magicpig-run -e main -entry-point-result=void -O3 -mcpu=haswell \
// RUN: | FileCheck %s

// Pseudo-random 32-bit integers: a hash of (position, seed).
func.func @hash(%i: index, %seed: i32) -> i32 {
  %k1 = arith.constant -1640531535 : i32
  %k2 = arith.constant -2048144777 : i32
  %k3 = arith.constant 2146121005 : i32
  %k4 = arith.constant -2073254261 : i32
  %s16 = arith.constant 16 : i32
  %s15 = arith.constant 15 : i32
  %ii = arith.index_cast %i : index to i32
  %a = arith.muli %ii, %k1 : i32
  %sm = arith.muli %seed, %k2 : i32
  %h0 = arith.addi %a, %sm : i32
  %t0 = arith.shrui %h0, %s16 : i32
  %h1 = arith.xori %h0, %t0 : i32
  %h2 = arith.muli %h1, %k3 : i32
  %t2 = arith.shrui %h2, %s15 : i32
  %h3 = arith.xori %h2, %t2 : i32
  %h4 = arith.muli %h3, %k4 : i32
  %t4 = arith.shrui %h4, %s16 : i32
  %h5 = arith.xori %h4, %t4 : i32
  return %h5 : i32
}

// Violations of the CSR contract by tables (offsets, indices) built from
// `codes`, all widened to i64: one count per broken rule instance.
func.func @violations(%codes: memref<?x?x?x?xi64>, %offsets: memref<?x?x?x?xi64>,
                      %indices: memref<?x?x?x?xi64>, %bits: i64,
                      %sink: index, %window: index) -> i64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %z = arith.constant 0 : i64
  %one = arith.constant 1 : i64
  %nb = memref.dim %codes, %c0 : memref<?x?x?x?xi64>
  %nh = memref.dim %codes, %c1 : memref<?x?x?x?xi64>
  %n = memref.dim %codes, %c2 : memref<?x?x?x?xi64>
  %nl = memref.dim %codes, %c3 : memref<?x?x?x?xi64>
  %buckets64 = arith.shli %one, %bits : i64
  %mask = arith.subi %buckets64, %one : i64
  %buckets = arith.index_cast %buckets64 : i64 to index
  // M = [sink, N - window), empty when N <= sink + window.
  %sw = arith.addi %sink, %window : index
  %nonempty = arith.cmpi ugt, %n, %sw : index
  %endm = arith.subi %n, %window : index
  %mb = arith.select %nonempty, %sink, %c0 : index
  %me = arith.select %nonempty, %endm, %c0 : index
  %msize = arith.subi %me, %mb : index
  %msize64 = arith.index_cast %msize : index to i64
  %total = scf.for %b = %c0 to %nb step %c1 iter_args(%v0 = %z) -> i64 {
   %vb = scf.for %g = %c0 to %nh step %c1 iter_args(%v1 = %v0) -> i64 {
    %vg = scf.for %l = %c0 to %nl step %c1 iter_args(%v2 = %v1) -> i64 {
      // offsets[0] = 0 and offsets[2^K] = |M|.
      %o0 = memref.load %offsets[%b, %g, %l, %c0] : memref<?x?x?x?xi64>
      %bad0 = arith.cmpi ne, %o0, %z : i64
      %oe = memref.load %offsets[%b, %g, %l, %buckets] : memref<?x?x?x?xi64>
      %bade = arith.cmpi ne, %oe, %msize64 : i64
      %b0 = arith.extui %bad0 : i1 to i64
      %be = arith.extui %bade : i1 to i64
      %v3 = arith.addi %v2, %b0 : i64
      %v4 = arith.addi %v3, %be : i64
      %vc = scf.for %c = %c0 to %buckets step %c1 iter_args(%v5 = %v4) -> i64 {
        %c64 = arith.index_cast %c : index to i64
        // Brute-force size of bucket c.
        %want = scf.for %j = %mb to %me step %c1 iter_args(%k = %z) -> i64 {
          %code = memref.load %codes[%b, %g, %j, %l] : memref<?x?x?x?xi64>
          %low = arith.andi %code, %mask : i64
          %eq = arith.cmpi eq, %low, %c64 : i64
          %e = arith.extui %eq : i1 to i64
          %k1 = arith.addi %k, %e : i64
          scf.yield %k1 : i64
        }
        %c1i = arith.addi %c, %c1 : index
        %lo = memref.load %offsets[%b, %g, %l, %c] : memref<?x?x?x?xi64>
        %hi = memref.load %offsets[%b, %g, %l, %c1i] : memref<?x?x?x?xi64>
        %size = arith.subi %hi, %lo : i64
        %badsize = arith.cmpi ne, %size, %want : i64
        %bs = arith.extui %badsize : i1 to i64
        %v6 = arith.addi %v5, %bs : i64
        // Bucket entries: in M, with code c, ascending. Only read when the
        // size is right (else the bounds may be garbage).
        %v9 = scf.if %badsize -> i64 {
          scf.yield %v6 : i64
        } else {
          %loi = arith.index_cast %lo : i64 to index
          %hii = arith.index_cast %hi : i64 to index
          %mb64 = arith.index_cast %mb : index to i64
          %me64 = arith.index_cast %me : index to i64
          %minus1 = arith.constant -1 : i64
          %r:2 = scf.for %p = %loi to %hii step %c1 iter_args(%v7 = %v6, %prev = %minus1) -> (i64, i64) {
            %j = memref.load %indices[%b, %g, %l, %p] : memref<?x?x?x?xi64>
            %ge = arith.cmpi sge, %j, %mb64 : i64
            %lt = arith.cmpi slt, %j, %me64 : i64
            %inm = arith.andi %ge, %lt : i1
            %asc = arith.cmpi sgt, %j, %prev : i64
            %ok0 = arith.andi %inm, %asc : i1
            %ok = scf.if %ok0 -> i1 {
              %ji = arith.index_cast %j : i64 to index
              %code = memref.load %codes[%b, %g, %ji, %l] : memref<?x?x?x?xi64>
              %low = arith.andi %code, %mask : i64
              %eq = arith.cmpi eq, %low, %c64 : i64
              scf.yield %eq : i1
            } else {
              %f = arith.constant false
              scf.yield %f : i1
            }
            %true = arith.constant true
            %bad = arith.xori %ok, %true : i1
            %bi = arith.extui %bad : i1 to i64
            %v8 = arith.addi %v7, %bi : i64
            scf.yield %v8, %j : i64, i64
          }
          scf.yield %r#0 : i64
        }
        scf.yield %v9 : i64
      }
      // indices[|M|, N) = 0.
      %vt = scf.for %p = %msize to %n step %c1 iter_args(%v10 = %vc) -> i64 {
        %j = memref.load %indices[%b, %g, %l, %p] : memref<?x?x?x?xi64>
        %nz = arith.cmpi ne, %j, %z : i64
        %nzi = arith.extui %nz : i1 to i64
        %v11 = arith.addi %v10, %nzi : i64
        scf.yield %v11 : i64
      }
      scf.yield %vt : i64
    }
    scf.yield %vg : i64
   }
   scf.yield %vb : i64
  }
  return %total : i64
}

// Random codes with all 16 bits set at random (bits above K included).
func.func @random_codes_i16(%codes: memref<?x?x?x?xi16>, %seed: i32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %d0 = memref.dim %codes, %c0 : memref<?x?x?x?xi16>
  %d1 = memref.dim %codes, %c1 : memref<?x?x?x?xi16>
  %d2 = memref.dim %codes, %c2 : memref<?x?x?x?xi16>
  %d3 = memref.dim %codes, %c3 : memref<?x?x?x?xi16>
  scf.for %a = %c0 to %d0 step %c1 {
   scf.for %b = %c0 to %d1 step %c1 {
    scf.for %c = %c0 to %d2 step %c1 {
     scf.for %d = %c0 to %d3 step %c1 {
      %ab = arith.muli %a, %d1 : index
      %ab1 = arith.addi %ab, %b : index
      %abc = arith.muli %ab1, %d2 : index
      %abc1 = arith.addi %abc, %c : index
      %abcd = arith.muli %abc1, %d3 : index
      %pos = arith.addi %abcd, %d : index
      %h = func.call @hash(%pos, %seed) : (index, i32) -> i32
      %t = arith.trunci %h : i32 to i16
      memref.store %t, %codes[%a, %b, %c, %d] : memref<?x?x?x?xi16>
     }
    }
   }
  }
  return
}

func.func @fill_i32(%m: memref<?x?x?x?xi32>, %v: i32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %d0 = memref.dim %m, %c0 : memref<?x?x?x?xi32>
  %d1 = memref.dim %m, %c1 : memref<?x?x?x?xi32>
  %d2 = memref.dim %m, %c2 : memref<?x?x?x?xi32>
  %d3 = memref.dim %m, %c3 : memref<?x?x?x?xi32>
  scf.parallel (%a, %b, %c, %d) = (%c0, %c0, %c0, %c0) to (%d0, %d1, %d2, %d3) step (%c1, %c1, %c1, %c1) {
    memref.store %v, %m[%a, %b, %c, %d] : memref<?x?x?x?xi32>
  }
  return
}

// Widens any of the integer memrefs used here to a fresh i64 copy.
func.func @widen_i16(%m: memref<?x?x?x?xi16>) -> memref<?x?x?x?xi64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %d0 = memref.dim %m, %c0 : memref<?x?x?x?xi16>
  %d1 = memref.dim %m, %c1 : memref<?x?x?x?xi16>
  %d2 = memref.dim %m, %c2 : memref<?x?x?x?xi16>
  %d3 = memref.dim %m, %c3 : memref<?x?x?x?xi16>
  %w = memref.alloc(%d0, %d1, %d2, %d3) : memref<?x?x?x?xi64>
  scf.parallel (%a, %b, %c, %d) = (%c0, %c0, %c0, %c0) to (%d0, %d1, %d2, %d3) step (%c1, %c1, %c1, %c1) {
    %v = memref.load %m[%a, %b, %c, %d] : memref<?x?x?x?xi16>
    %x = arith.extui %v : i16 to i64
    memref.store %x, %w[%a, %b, %c, %d] : memref<?x?x?x?xi64>
  }
  return %w : memref<?x?x?x?xi64>
}

func.func @widen_i8(%m: memref<?x?x?x?xi8>) -> memref<?x?x?x?xi64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %d0 = memref.dim %m, %c0 : memref<?x?x?x?xi8>
  %d1 = memref.dim %m, %c1 : memref<?x?x?x?xi8>
  %d2 = memref.dim %m, %c2 : memref<?x?x?x?xi8>
  %d3 = memref.dim %m, %c3 : memref<?x?x?x?xi8>
  %w = memref.alloc(%d0, %d1, %d2, %d3) : memref<?x?x?x?xi64>
  scf.parallel (%a, %b, %c, %d) = (%c0, %c0, %c0, %c0) to (%d0, %d1, %d2, %d3) step (%c1, %c1, %c1, %c1) {
    %v = memref.load %m[%a, %b, %c, %d] : memref<?x?x?x?xi8>
    %x = arith.extui %v : i8 to i64
    memref.store %x, %w[%a, %b, %c, %d] : memref<?x?x?x?xi64>
  }
  return %w : memref<?x?x?x?xi64>
}

func.func @widen_i32(%m: memref<?x?x?x?xi32>) -> memref<?x?x?x?xi64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %d0 = memref.dim %m, %c0 : memref<?x?x?x?xi32>
  %d1 = memref.dim %m, %c1 : memref<?x?x?x?xi32>
  %d2 = memref.dim %m, %c2 : memref<?x?x?x?xi32>
  %d3 = memref.dim %m, %c3 : memref<?x?x?x?xi32>
  %w = memref.alloc(%d0, %d1, %d2, %d3) : memref<?x?x?x?xi64>
  scf.parallel (%a, %b, %c, %d) = (%c0, %c0, %c0, %c0) to (%d0, %d1, %d2, %d3) step (%c1, %c1, %c1, %c1) {
    %v = memref.load %m[%a, %b, %c, %d] : memref<?x?x?x?xi32>
    %x = arith.extsi %v : i32 to i64
    memref.store %x, %w[%a, %b, %c, %d] : memref<?x?x?x?xi64>
  }
  return %w : memref<?x?x?x?xi64>
}

// Builds tables for i16 codes [B, H, N, L] with i32 outputs (started as
// garbage) and returns the violations.
func.func @case_i16_i32(%b: index, %h: index, %n: index, %l: index,
                        %seed: i32) -> i64 {
  %codes = memref.alloc(%b, %h, %n, %l) : memref<?x?x?x?xi16>
  func.call @random_codes_i16(%codes, %seed) : (memref<?x?x?x?xi16>, i32) -> ()
  %offsets = memref.alloc(%b, %h, %l) : memref<?x?x?x17xi32>
  %indices = memref.alloc(%b, %h, %l, %n) : memref<?x?x?x?xi32>
  %od = memref.cast %offsets : memref<?x?x?x17xi32> to memref<?x?x?x?xi32>
  %garbage = arith.constant -7 : i32
  func.call @fill_i32(%od, %garbage) : (memref<?x?x?x?xi32>, i32) -> ()
  func.call @fill_i32(%indices, %garbage) : (memref<?x?x?x?xi32>, i32) -> ()
  magicpig.build_tables bits(4) sink(3) window(7)
    ins(%codes : memref<?x?x?x?xi16>)
    outs(%offsets, %indices : memref<?x?x?x17xi32>, memref<?x?x?x?xi32>)
  %cw = func.call @widen_i16(%codes) : (memref<?x?x?x?xi16>) -> memref<?x?x?x?xi64>
  %ow = func.call @widen_i32(%od) : (memref<?x?x?x?xi32>) -> memref<?x?x?x?xi64>
  %iw = func.call @widen_i32(%indices) : (memref<?x?x?x?xi32>) -> memref<?x?x?x?xi64>
  %bits = arith.constant 4 : i64
  %sink = arith.constant 3 : index
  %window = arith.constant 7 : index
  %v = func.call @violations(%cw, %ow, %iw, %bits, %sink, %window) : (memref<?x?x?x?xi64>, memref<?x?x?x?xi64>, memref<?x?x?x?xi64>, i64, index, index) -> i64
  return %v : i64
}

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %s1 = arith.constant 1 : i32

  // Static shapes, i16 codes, K = 4, L = 5 (< one task's 8 tables),
  // i32 tables, M = [3, 43).
  %codes = memref.alloc() : memref<2x3x50x5xi16>
  %cd = memref.cast %codes : memref<2x3x50x5xi16> to memref<?x?x?x?xi16>
  func.call @random_codes_i16(%cd, %s1) : (memref<?x?x?x?xi16>, i32) -> ()
  %offsets = memref.alloc() : memref<2x3x5x17xi32>
  %indices = memref.alloc() : memref<2x3x5x50xi32>
  %od = memref.cast %offsets : memref<2x3x5x17xi32> to memref<?x?x?x?xi32>
  %id = memref.cast %indices : memref<2x3x5x50xi32> to memref<?x?x?x?xi32>
  %garbage = arith.constant 12345 : i32
  func.call @fill_i32(%od, %garbage) : (memref<?x?x?x?xi32>, i32) -> ()
  func.call @fill_i32(%id, %garbage) : (memref<?x?x?x?xi32>, i32) -> ()
  magicpig.build_tables bits(4) sink(3) window(7)
    ins(%codes : memref<2x3x50x5xi16>)
    outs(%offsets, %indices : memref<2x3x5x17xi32>, memref<2x3x5x50xi32>)
  %cw = func.call @widen_i16(%cd) : (memref<?x?x?x?xi16>) -> memref<?x?x?x?xi64>
  %ow = func.call @widen_i32(%od) : (memref<?x?x?x?xi32>) -> memref<?x?x?x?xi64>
  %iw = func.call @widen_i32(%id) : (memref<?x?x?x?xi32>) -> memref<?x?x?x?xi64>
  %bits4 = arith.constant 4 : i64
  %c7 = arith.constant 7 : index
  %va = func.call @violations(%cw, %ow, %iw, %bits4, %c3, %c7) : (memref<?x?x?x?xi64>, memref<?x?x?x?xi64>, memref<?x?x?x?xi64>, i64, index, index) -> i64
  // CHECK: static violations 0
  vector.print str "static violations "
  vector.print %va : i64
  // A bucket of table (0, 0, 0), to see the layout: offsets then indices.
  %o1 = memref.subview %offsets[0, 0, 0, 0] [1, 1, 1, 17] [1, 1, 1, 1] : memref<2x3x5x17xi32> to memref<17xi32, strided<[1]>>
  %o1u = memref.cast %o1 : memref<17xi32, strided<[1]>> to memref<*xi32>
  // CHECK: [0, {{.*}}, 40]
  call @printMemrefI32(%o1u) : (memref<*xi32>) -> ()

  // Dynamic shapes, L = 11 (a full task of 8 tables and a partial one).
  %c11 = arith.constant 11 : index
  %c40 = arith.constant 40 : index
  %s2 = arith.constant 2 : i32
  %vb = func.call @case_i16_i32(%c1, %c2, %c40, %c11, %s2) : (index, index, index, index, i32) -> i64
  // CHECK-NEXT: dynamic violations 0
  vector.print str "dynamic violations "
  vector.print %vb : i64

  // N = 10 = sink + window: M is empty, offsets and indices all 0.
  %c10 = arith.constant 10 : index
  %s3 = arith.constant 3 : i32
  %vc = func.call @case_i16_i32(%c1, %c1, %c10, %c3, %s3) : (index, index, index, index, i32) -> i64
  // CHECK-NEXT: empty violations 0
  vector.print str "empty violations "
  vector.print %vc : i64

  // N = 2 < sink: M is empty.
  %s4 = arith.constant 4 : i32
  %vd = func.call @case_i16_i32(%c1, %c1, %c2, %c3, %s4) : (index, index, index, index, i32) -> i64
  // CHECK-NEXT: short violations 0
  vector.print str "short violations "
  vector.print %vd : i64

  // i8 codes, K = 8, i64 tables, sink = window = 0 (M is every token).
  %codes8 = memref.alloc() : memref<1x2x300x3xi8>
  %c8d = memref.cast %codes8 : memref<1x2x300x3xi8> to memref<?x?x?x?xi8>
  %c300 = arith.constant 300 : index
  %s5 = arith.constant 5 : i32
  scf.for %g = %c0 to %c2 step %c1 {
    scf.for %j = %c0 to %c300 step %c1 {
      scf.for %l = %c0 to %c3 step %c1 {
        %gj = arith.muli %g, %c300 : index
        %gj1 = arith.addi %gj, %j : index
        %p0 = arith.muli %gj1, %c3 : index
        %p = arith.addi %p0, %l : index
        %hv = func.call @hash(%p, %s5) : (index, i32) -> i32
        %t = arith.trunci %hv : i32 to i8
        memref.store %t, %codes8[%c0, %g, %j, %l] : memref<1x2x300x3xi8>
      }
    }
  }
  %off64 = memref.alloc() : memref<1x2x3x257xi64>
  %idx64 = memref.alloc() : memref<1x2x3x300xi64>
  magicpig.build_tables bits(8) sink(0) window(0)
    ins(%codes8 : memref<1x2x300x3xi8>)
    outs(%off64, %idx64 : memref<1x2x3x257xi64>, memref<1x2x3x300xi64>)
  %cw8 = func.call @widen_i8(%c8d) : (memref<?x?x?x?xi8>) -> memref<?x?x?x?xi64>
  %ow8 = memref.cast %off64 : memref<1x2x3x257xi64> to memref<?x?x?x?xi64>
  %iw8 = memref.cast %idx64 : memref<1x2x3x300xi64> to memref<?x?x?x?xi64>
  %bits8 = arith.constant 8 : i64
  %ve = func.call @violations(%cw8, %ow8, %iw8, %bits8, %c0, %c0) : (memref<?x?x?x?xi64>, memref<?x?x?x?xi64>, memref<?x?x?x?xi64>, i64, index, index) -> i64
  // CHECK-NEXT: i8/i64 violations 0
  vector.print str "i8/i64 violations "
  vector.print %ve : i64
  return
}

func.func private @printMemrefI32(memref<*xi32>)
