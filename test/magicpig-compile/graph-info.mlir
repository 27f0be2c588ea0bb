// Every compiled graph exports `magicpig_graph_info`, a JSON description
// (docs/CompiledGraphABI.md): the attention and options it was compiled
// with, the number of sparse layers and each entry point's types (-1 for a
// dynamic size, null for a scalar). With MagicPIG the sparsified signature
// shows: four index buffers per sparse layer, and the retrieve count result
// of --return-counts (on by default; off drops it).
// RUN: magicpig-compile %S/../Integration/EndToEnd/Inputs/gqa_layer.mlir --emit=llvm -o - --quiet --lsh-bits=8 --lsh-tables=20 --seed=7 | FileCheck %s --check-prefix=SPARSE
// RUN: magicpig-compile %S/../Integration/EndToEnd/Inputs/gqa_layer.mlir --emit=llvm -o - --quiet --return-counts=false | FileCheck %s --check-prefix=NOCOUNT
// The index buffers' magicpig.layer attributes are dropped before LLVM IR,
// which has no place for them (translation would warn once per buffer).
// RUN: magicpig-compile %S/../Integration/EndToEnd/Inputs/gqa_layer.mlir --emit=llvm -o %t.ll --quiet --lsh-bits=8 --lsh-tables=20 2>&1 | FileCheck %s --check-prefix=QUIET --allow-empty
// QUIET-NOT: warning
// The cache arguments that only attention reads accept strided views
// (--magicpig-strided-kv-arguments, on by default): "strided": true.
// RUN: magicpig-compile %S/Inputs/cache_window.mlir --attention=dense --emit=llvm -o - --quiet | FileCheck %s --check-prefix=STRIDED
// RUN: magicpig-compile %S/Inputs/cache_window.mlir --attention=dense --emit=llvm -o - --quiet --strided-kv-arguments=false | FileCheck %s --check-prefix=CONTIGUOUS
// With --kv-type=bf16 (or f16) the caches are bf16 (f16), still strided; the
// query stays f32 (--magicpig-narrow-kv-cache).
// RUN: magicpig-compile %S/Inputs/cache_window.mlir --attention=dense --emit=llvm -o - --quiet --kv-type=bf16 | FileCheck %s --check-prefix=KVBF16
// RUN: magicpig-compile %S/Inputs/cache_window.mlir --attention=dense --emit=llvm -o - --quiet --kv-type=f16 | FileCheck %s --check-prefix=KVF16
// With --weight-type=bf16 the weight matrix argument is bf16 (the input
// vector stays f32), and the options say so.
// RUN: magicpig-compile %S/Inputs/linear.mlir --attention=dense --emit=llvm -o - --quiet --weight-type=bf16 | FileCheck %s --check-prefix=BF16
// A lowering pipeline that stops short of the LLVM dialect still gets the
// graph info (as an llvm.mlir.global), with --emit=mlir.
// RUN: magicpig-compile %S/Inputs/linear.mlir --attention=dense --emit=mlir -o - --quiet --weight-type=bf16 --lowering-pipeline=canonicalize | FileCheck %s --check-prefix=MLIR
// RUN: magicpig-compile %S/Inputs/axpy.mlir --attention=dense --emit=llvm -o - --quiet --lowering-pipeline="convert-scf-to-cf,finalize-memref-to-llvm,convert-arith-to-llvm,convert-func-to-llvm,convert-cf-to-llvm,reconcile-unrealized-casts" | FileCheck %s --check-prefix=DENSE

// SPARSE: @magicpig_graph_info = {{.*}}constant [{{[0-9]+}} x i8] c"{\22attention\22:\22magicpig\22,\22format\22:\22magicpig-graph/1\22,
// SPARSE-SAME: \22decode\22:{\22arguments\22:[{\22dtype\22:\22f32\22,\22shape\22:[1,4,1,16]},{{.*}},{\22dtype\22:\22i32\22,\22shape\22:[1,2,20,257]},{\22dtype\22:\22i32\22,\22shape\22:[1,2,20,-1]},{\22dtype\22:\22f32\22,\22shape\22:[1,2,-1]},{\22dtype\22:\22f32\22,\22shape\22:[1,2,16]}],
// SPARSE-SAME: \22results\22:[{\22dtype\22:\22f32\22,\22shape\22:[1,4,1,16]},{\22dtype\22:\22i32\22,\22shape\22:[1,4]}]}
// SPARSE-SAME: \22options\22:{\22dense-layers\22:null,\22kv-type\22:\22f32\22,\22lsh-bits\22:8,\22lsh-tables\22:20,\22min-collisions\22:2,\22return-counts\22:true,\22seed\22:7,\22sink-tokens\22:4,\22weight-type\22:\22f32\22,\22window-tokens\22:64},\22sparse_layers\22:1,\22target\22:\22cpu\22}\00"

// BF16: \22linear\22:{\22arguments\22:[{\22dtype\22:\22bf16\22,\22shape\22:[256,256]},{\22dtype\22:\22f32\22,\22shape\22:[1,256]}]
// BF16-SAME: \22weight-type\22:\22bf16\22
// MLIR: llvm.mlir.global external constant @magicpig_graph_info
// MLIR: func.func @linear(%{{.+}}: tensor<256x256xbf16>, %{{.+}}: tensor<1x256xf32>)

// NOCOUNT: \22decode\22:{{.*}}\22results\22:[{\22dtype\22:\22f32\22,\22shape\22:[1,4,1,16]}]}
// NOCOUNT-SAME: \22return-counts\22:false

// DENSE: @magicpig_graph_info = {{.*}}c"{\22attention\22:\22dense\22,{{.*}}\22axpy\22:{\22arguments\22:[{\22dtype\22:\22f32\22,\22shape\22:null},{\22dtype\22:\22f32\22,\22shape\22:[-1]},{\22dtype\22:\22f32\22,\22shape\22:[-1]}],\22results\22:[]}}
// DENSE-SAME: \22sparse_layers\22:0,\22target\22:\22cpu\22}\00"

// STRIDED: \22decode\22:{\22arguments\22:[{\22dtype\22:\22f32\22,\22shape\22:[1,4,16]},{\22dtype\22:\22f32\22,\22shape\22:[2,1,2,-1,16],\22strided\22:true},{\22dtype\22:\22f32\22,\22shape\22:[2,1,2,-1,16],\22strided\22:true}]
// KVBF16: \22decode\22:{\22arguments\22:[{\22dtype\22:\22f32\22,\22shape\22:[1,4,16]},{\22dtype\22:\22bf16\22,\22shape\22:[2,1,2,-1,16],\22strided\22:true},{\22dtype\22:\22bf16\22,\22shape\22:[2,1,2,-1,16],\22strided\22:true}]
// KVBF16-SAME: \22kv-type\22:\22bf16\22
// KVF16: {\22dtype\22:\22f16\22,\22shape\22:[2,1,2,-1,16],\22strided\22:true},{\22dtype\22:\22f16\22,\22shape\22:[2,1,2,-1,16],\22strided\22:true}]
// CONTIGUOUS: \22decode\22:{\22arguments\22:[{\22dtype\22:\22f32\22,\22shape\22:[1,4,16]},{\22dtype\22:\22f32\22,\22shape\22:[2,1,2,-1,16]},{\22dtype\22:\22f32\22,\22shape\22:[2,1,2,-1,16]}]
