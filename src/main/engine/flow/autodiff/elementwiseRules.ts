/**
 * Reverse-mode rules of the elementwise ops (ȳ = adjoint of the output y, x̄ of the input x):
 *
 *   Relu      x̄ = ȳ where y > 0, else 0           (y > 0 ⇔ x > 0; 0 at x = 0, like TensorFlow)
 *   Tanh      x̄ = ȳ − ȳ ⊙ y²                       (1 − tanh² from the output)
 *   Exp       x̄ = ȳ ⊙ y
 *   Log       x̄ = ȳ / x
 *   Softplus  x̄ = ȳ ⊙ σ(x)
 *   Neg       x̄ = −ȳ            Square  x̄ = ȳ ⊙ 2x
 *   Scale     x̄ = α·ȳ           AddConst x̄ = ȳ
 *   MaxScalar x̄ = ȳ ⊙ 1[x ≥ s],  s̄ = Σ ȳ ⊙ (1 − 1[x ≥ s])   (ties go to x, like tf.maximum)
 *   Add       ā = ȳ, b̄ = ȳ       Sub  ā = ȳ, b̄ = −ȳ
 *   Mul       ā = ȳ ⊙ b, b̄ = ȳ ⊙ a
 *   Div       ā = ȳ / b, b̄ = −ȳ ⊙ a / b²
 * Binary adjoints are summed back over broadcast axes (unbroadcast).
 *
 * The MaxScalar rule is what makes the CF contrast clamp work: contrast points with
 * log p(y) < ε get exactly zero gradient.
 */
import type { OpName } from '../graph';
import { unbroadcast, type VjpRule } from './context';

const unary =
  (f: (ctx: Parameters<VjpRule>[0], x: string, y: string, dy: string, alpha?: number) => string): VjpRule =>
  (ctx, node, dy, needs) => [needs[0] ? f(ctx, node.inputs[0], node.output, dy, node.attrs?.alpha) : null];

export const ELEMENTWISE_RULES: Partial<Record<OpName, VjpRule>> = {
  Relu: unary((c, _x, y, dy) => c.emit('PassIfPositive', [dy, y])),
  Tanh: unary((c, _x, y, dy) => c.emit('Sub', [dy, c.emit('Mul', [dy, c.emit('Square', [y])])])),
  Exp: unary((c, _x, y, dy) => c.emit('Mul', [dy, y])),
  Log: unary((c, x, _y, dy) => c.emit('Div', [dy, x])),
  Softplus: unary((c, x, _y, dy) => c.emit('Mul', [dy, c.emit('Sigmoid', [x])])),
  Neg: unary((c, _x, _y, dy) => c.emit('Neg', [dy])),
  Square: unary((c, x, _y, dy) => c.emit('Mul', [dy, c.emit('Scale', [x], { alpha: 2 })])),
  Scale: unary((c, _x, _y, dy, alpha) => c.emit('Scale', [dy], { alpha })),
  AddConst: unary((_c, _x, _y, dy) => dy),

  MaxScalar: (c, node, dy, needs) => {
    const [x, s] = node.inputs;
    const mask = c.emit('GeMask', [x, s]);
    const dx = needs[0] ? c.emit('Mul', [dy, mask]) : null;
    const ds = needs[1]
      ? c.emit('SumAll', [c.emit('Mul', [dy, c.emit('AddConst', [c.emit('Neg', [mask])], { c: 1 })])])
      : null;
    return [dx, ds];
  },

  Add: (c, node, dy, needs) => {
    const [a, b] = node.inputs;
    return [
      needs[0] ? unbroadcast(c, dy, a, node.output) : null,
      needs[1] ? unbroadcast(c, dy, b, node.output) : null,
    ];
  },
  Sub: (c, node, dy, needs) => {
    const [a, b] = node.inputs;
    return [
      needs[0] ? unbroadcast(c, dy, a, node.output) : null,
      needs[1] ? unbroadcast(c, c.emit('Neg', [dy]), b, node.output) : null,
    ];
  },
  Mul: (c, node, dy, needs) => {
    const [a, b] = node.inputs;
    return [
      needs[0] ? unbroadcast(c, c.emit('Mul', [dy, b]), a, node.output) : null,
      needs[1] ? unbroadcast(c, c.emit('Mul', [dy, a]), b, node.output) : null,
    ];
  },
  Div: (c, node, dy, needs) => {
    const [a, b] = node.inputs;
    const da = needs[0] ? unbroadcast(c, c.emit('Div', [dy, b]), a, node.output) : null;
    const db = needs[1]
      ? unbroadcast(
          c,
          c.emit('Neg', [c.emit('Div', [c.emit('Mul', [dy, a]), c.emit('Square', [b])])]),
          b,
          node.output,
        )
      : null;
    return [da, db];
  },
};
