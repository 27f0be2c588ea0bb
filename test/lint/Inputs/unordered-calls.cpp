// Input of eval-order-self-test.test: calls whose arguments do and do not
// create ops in an order the compiler chooses. A stand-in OpBuilder, so no
// MLIR headers are needed.
#include <functional>
#include <initializer_list>

namespace mlir {
struct OpBuilder {};
struct ImplicitLocOpBuilder : OpBuilder {
  template <typename T> int create(int x) { return x; }
  int getIndexAttr(int x) { return x; }
};
} // namespace mlir
using mlir::ImplicitLocOpBuilder;

int constant(ImplicitLocOpBuilder &b, int v) { return v; }
int add(ImplicitLocOpBuilder &b, int x, int y) { return x + y; }
int pair(int x, int y) { return x + y; }
int list(std::initializer_list<int> xs) { return 0; }
int loop(ImplicitLocOpBuilder &b, int lb, int ub,
         const std::function<int(ImplicitLocOpBuilder &)> &body) {
  return body(b);
}
struct Holder {
  Holder(int x, int y) {}
};

void cases(ImplicitLocOpBuilder &b, int v) {
  // Flagged: two arguments each create an op.
  add(b, constant(b, 0), constant(b, 1));           // UNORDERED-ADD
  pair(constant(b, 0), add(b, v, constant(b, 1)));  // UNORDERED-PAIR
  pair(b.create<int>(1), b.create<int>(2));         // UNORDERED-MEMBER
  Holder h(constant(b, 0), constant(b, 1));         // UNORDERED-CTOR

  // Not flagged: one creating argument, statements, a braced list
  // (evaluated in order), a lambda (runs later), attribute getters.
  add(b, v, constant(b, 1));
  int zero = constant(b, 0);
  int one = constant(b, 1);
  add(b, zero, one);
  list({constant(b, 0), constant(b, 1)});
  Holder braced{constant(b, 0), constant(b, 1)};
  loop(b, constant(b, 0), v, [&](ImplicitLocOpBuilder &ib) {
    return add(ib, constant(ib, 0), one);
  });
  pair(b.getIndexAttr(0), b.getIndexAttr(1));
}
