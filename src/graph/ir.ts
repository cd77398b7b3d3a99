/**
 * The graph IR: tensors with static shapes, and nodes in execution order, each
 * producing one tensor named after the node. Shapes are worked out while the
 * graph is built (by each kernel's outputShape), so a bad shape fails at build
 * time with the node's name in the message.
 */
import { kernelFor, type OpName } from "../kernels/index.js";
import { shapeString, type Shape } from "../kernels/layout.js";

/** Which weights a node needs, named as in the safetensors file. */
export interface ParamSpec {
  /** Which weights file: a model name from the file's metadata ("dbm", "purohit-patch", "purohit-unet"). */
  readonly file: string;
  /** Tensor name prefix: `<prefix>.weight`, `<prefix>.bias`. */
  readonly prefix: string;
  /** PyTorch layout of `<prefix>.weight`. */
  readonly weightShape: readonly number[];
  /** BatchNorm tensors stored under this name prefix, folded into weight and bias at load time. */
  readonly batchNorm?: string;
}

export interface Node {
  readonly name: string;
  readonly op: OpName;
  readonly inputs: readonly string[];
  readonly attrs: unknown;
  readonly params?: ParamSpec;
}

export interface Graph {
  /** Tensors the caller supplies, in order. */
  readonly inputs: readonly string[];
  readonly output: string;
  readonly shapes: ReadonlyMap<string, Shape>;
  readonly nodes: readonly Node[];
}

export class GraphBuilder {
  private readonly shapes = new Map<string, Shape>();
  private readonly nodes: Node[] = [];
  private readonly inputs: string[] = [];

  input(name: string, shape: Shape): string {
    if (this.shapes.has(name)) throw new Error(`graph: tensor "${name}" defined twice`);
    this.inputs.push(name);
    this.shapes.set(name, shape);
    return name;
  }

  shape(name: string): Shape {
    const s = this.shapes.get(name);
    if (!s) throw new Error(`graph: no tensor named "${name}"`);
    return s;
  }

  add(op: OpName, name: string, inputs: readonly string[], attrs: unknown = {}, params?: ParamSpec): string {
    if (this.shapes.has(name)) throw new Error(`graph: tensor "${name}" defined twice`);
    const inputShapes = inputs.map((i) => this.shape(i));
    let shape: Shape;
    try {
      shape = kernelFor(op).outputShape(inputShapes, attrs);
    } catch (e) {
      throw new Error(`graph: node "${name}" (${op} on ${inputShapes.map(shapeString).join(", ")}): ${(e as Error).message}`);
    }
    this.shapes.set(name, shape);
    this.nodes.push({ name, op, inputs, attrs, params });
    return name;
  }

  build(output: string): Graph {
    this.shape(output);
    return { inputs: [...this.inputs], output, shapes: new Map(this.shapes), nodes: [...this.nodes] };
  }
}
