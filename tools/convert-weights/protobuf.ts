/**
 * ONNX and Caffe weights through protobufjs, with the few messages of each
 * published schema that hold weights (field numbers as in onnx/onnx.proto and
 * BVLC caffe/src/caffe/proto/caffe.proto).
 */
import protobuf from "protobufjs";
import { bfloat16ToFloat, halfToFloat } from "../../src/weights/fp16.js";
import type { SourceTensor } from "./convert.js";

const SCHEMA = `
syntax = "proto2";
package blurmap;
message OnnxTensor {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
  optional int32 data_location = 14;
}
message OnnxGraph { repeated OnnxTensor initializer = 5; }
message OnnxModel { optional int64 ir_version = 1; optional OnnxGraph graph = 7; }

message CaffeBlobShape { repeated int64 dim = 1 [packed = true]; }
message CaffeBlob {
  optional int32 num = 1; optional int32 channels = 2; optional int32 height = 3; optional int32 width = 4;
  repeated float data = 5 [packed = true];
  optional CaffeBlobShape shape = 7;
  repeated double double_data = 8 [packed = true];
}
message CaffeLayer { optional string name = 1; optional string type = 2; repeated CaffeBlob blobs = 7; }
message CaffeV1Layer { optional string name = 4; optional int32 type = 5; repeated CaffeBlob blobs = 6; }
message CaffeNet { optional string name = 1; repeated CaffeV1Layer layers = 2; repeated CaffeLayer layer = 100; }
`;

export const schema = protobuf.parse(SCHEMA, { keepCase: true }).root;
const long = (v: unknown) => Number(v);

function decode<T>(type: string, bytes: Uint8Array, file: string, what: string): T {
  try {
    return schema.lookupType(`blurmap.${type}`).decode(bytes) as unknown as T;
  } catch (e) {
    throw new Error(`${file}: not a readable ${what} file (${(e as Error).message})`);
  }
}

interface OnnxTensor { dims: unknown[]; data_type?: number; float_data: number[]; name?: string; raw_data?: Uint8Array; double_data: number[]; data_location?: number }

export function readOnnx(bytes: Uint8Array, file: string): Map<string, SourceTensor> {
  const model = decode<{ graph?: { initializer: OnnxTensor[] } }>("OnnxModel", bytes, file, "ONNX");
  const out = new Map<string, SourceTensor>();
  for (const t of model.graph?.initializer ?? []) {
    const name = t.name ?? "";
    const shape = t.dims.map(long);
    const count = shape.reduce((a, b) => a * b, 1);
    if (t.data_location === 1) throw new Error(`${file}: initializer "${name}" keeps its data in an external file, which is not supported`);
    const raw = t.raw_data;
    const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
    const width = { 1: 4, 10: 2, 16: 2, 11: 8 }[t.data_type ?? 0];
    if (!width) continue; // integer initializers (shapes, indices) are not weights
    let data: Float32Array;
    if (view) {
      if (raw!.byteLength !== count * width) throw new Error(`${file}: initializer "${name}" has ${raw!.byteLength} bytes for shape [${shape}]`);
      data = new Float32Array(count);
      for (let i = 0; i < count; i++)
        data[i] = width === 4 ? view.getFloat32(i * 4, true) : width === 8 ? view.getFloat64(i * 8, true) : t.data_type === 10 ? halfToFloat(view.getUint16(i * 2, true)) : bfloat16ToFloat(view.getUint16(i * 2, true));
    } else {
      const values = t.data_type === 11 ? t.double_data : t.float_data;
      if (values.length !== count) throw new Error(`${file}: initializer "${name}" has ${values.length} values for shape [${shape}]`);
      data = Float32Array.from(values);
    }
    out.set(name, { shape, data });
  }
  if (out.size === 0) throw new Error(`${file}: no float initializers (export with export_params=True)`);
  return out;
}

interface CaffeBlob { num?: number; channels?: number; height?: number; width?: number; data: number[]; shape?: { dim: unknown[] }; double_data: number[] }

/** Caffe blobs as "<layer>.weight" (blob 0) and "<layer>.bias" (blob 1); further blobs are "<layer>.blob<i>". */
export function readCaffe(bytes: Uint8Array, file: string): Map<string, SourceTensor> {
  const net = decode<{ layer: { name?: string; blobs: CaffeBlob[] }[]; layers: { name?: string; blobs: CaffeBlob[] }[] }>("CaffeNet", bytes, file, "Caffe model");
  const out = new Map<string, SourceTensor>();
  for (const layer of [...net.layer, ...net.layers]) {
    layer.blobs.forEach((blob, i) => {
      const shape = blob.shape ? blob.shape.dim.map(long) : [blob.num ?? 1, blob.channels ?? 1, blob.height ?? 1, blob.width ?? 1];
      const values = blob.data.length ? blob.data : blob.double_data;
      const count = shape.reduce((a, b) => a * b, 1);
      if (values.length !== count) throw new Error(`${file}: layer "${layer.name}" blob ${i} has ${values.length} values for shape [${shape}]`);
      out.set(`${layer.name}.${i === 0 ? "weight" : i === 1 ? "bias" : `blob${i}`}`, { shape, data: Float32Array.from(values) });
    });
  }
  if (out.size === 0) throw new Error(`${file}: no layer carries weights (is this a .prototxt rather than a .caffemodel?)`);
  return out;
}
