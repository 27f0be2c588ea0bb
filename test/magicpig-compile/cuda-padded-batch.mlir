// --target=cuda: the device kernels take one key range for the whole
// batch, so an entry point whose attention has per-sequence lengths (the
// export's decode_batch) is left out of the graph with a note; the others
// compile. Without --target=cuda it stays.
// RUN: magicpig-compile %s --attention=dense --target=cuda --chip=sm_80 --emit=mlir -o %t.cuda.mlir --quiet 2>&1 | FileCheck %s --check-prefix=NOTE
// RUN: FileCheck %s --check-prefix=CUDA < %t.cuda.mlir
// RUN: magicpig-compile %s --attention=dense --emit=mlir -o - --quiet | FileCheck %s --check-prefix=CPU

// NOTE: magicpig-compile: note: 'decode_batch' is left out of the --target=cuda graph: its attention takes per-sequence lengths
// CUDA-NOT: @decode_batch
// CUDA: llvm.func @decode(
// CUDA-NOT: @decode_batch
// CPU-DAG: llvm.func @decode(
// CPU-DAG: llvm.func @decode_batch(

func.func @decode(%q: tensor<1x4x16xf32>, %k: tensor<1x2x?x16xf32>,
                  %v: tensor<1x2x?x16xf32>) -> tensor<1x4x16xf32> {
  %o = tensor.empty() : tensor<1x4x16xf32>
  %a = magicpig.attention scale(0.25)
    ins(%q, %k, %v : tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>)
    outs(%o : tensor<1x4x16xf32>) -> tensor<1x4x16xf32>
  return %a : tensor<1x4x16xf32>
}

func.func @decode_batch(%len: tensor<?xi64>, %q: tensor<?x4x16xf32>,
                        %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>)
    -> tensor<?x4x16xf32> {
  %c0 = arith.constant 0 : index
  %b = tensor.dim %q, %c0 : tensor<?x4x16xf32>
  %o = tensor.empty(%b) : tensor<?x4x16xf32>
  %a = magicpig.attention scale(0.25) lengths(%len : tensor<?xi64>)
    ins(%q, %k, %v : tensor<?x4x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
    outs(%o : tensor<?x4x16xf32>) -> tensor<?x4x16xf32>
  return %a : tensor<?x4x16xf32>
}
