/**
 * The GLSL every pass is wrapped in. A kernel writes only
 *
 *     vec4 run(ivec4 o)   // o = (n, y, x, channel group) of the output texel
 *
 * and may call, for its i-th input, `fetch<i>(n, y, x, g)` (one texel = channels
 * 4g..4g+3, see layout.ts) and read `u_in<i>_shape` (n, h, w, c) and
 * `u_out_shape`. `origin<i>(n, g)` is the texel where tile (n, g) starts, for
 * loops that read many pixels of one tile: the integer division is done once. The wrapper finds o from gl_FragCoord, skips unused texels and
 * zeroes padded channels, so no kernel repeats that logic.
 *
 * A pass that computes `pixels` > 1 output pixels per fragment (register
 * blocking: they share every weight read) writes instead
 *
 *     void run(ivec4 o, out vec4 r[PIXELS])   // r[k]: pixel k of block o.z
 *
 * where o indexes the blocked output (its columns are blocks; which output
 * column pixel k of a block is: Blocking in kernel.ts); r[k] goes to draw
 * buffer k, one texture per k, and the executor interleaves them afterwards
 * (interleave-columns.ts).
 */
export const VERTEX_SHADER = `#version 300 es
// One triangle that covers the viewport; no vertex buffers needed.
void main() {
  vec2 p = vec2((gl_VertexID << 1) & 2, gl_VertexID & 2);
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}`;

export function fragmentShader(body: string, inputCount: number, pixels = 1): string {
  const outputs = Array.from({ length: pixels }, (_, k) => k);
  const lines = [
    "#version 300 es",
    "precision highp float;",
    "precision highp int;",
    "precision highp sampler2D;",
    ...(pixels > 1 ? [`#define PIXELS ${pixels}`, ...outputs.map((k) => `layout(location = ${k}) out vec4 fragColor${k};`)] : ["out vec4 fragColor;"]),
    "uniform ivec4 u_out_shape;",
    "uniform int u_out_cols;",
  ];
  for (let i = 0; i < inputCount; i++) {
    lines.push(
      `uniform sampler2D u_in${i};`,
      `uniform ivec4 u_in${i}_shape;`,
      `uniform int u_in${i}_cols;`,
      `ivec2 origin${i}(int n, int g) {`,
      `  int t = n * ((u_in${i}_shape.w + 3) / 4) + g;`,
      `  return ivec2((t % u_in${i}_cols) * u_in${i}_shape.z, (t / u_in${i}_cols) * u_in${i}_shape.y);`,
      `}`,
      `vec4 fetch${i}(int n, int y, int x, int g) {`,
      `  return texelFetch(u_in${i}, origin${i}(n, g) + ivec2(x, y), 0);`,
      `}`,
    );
  }
  lines.push(
    body,
    `void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  int groups = (u_out_shape.w + 3) / 4;
  int t = (p.y / u_out_shape.y) * u_out_cols + p.x / u_out_shape.z;
  ${pixels > 1 ? outputs.map((k) => `fragColor${k} = vec4(0.0);`).join(" ") : "fragColor = vec4(0.0);"}
  if (t >= u_out_shape.x * groups) return;
  ivec4 o = ivec4(t / groups, p.y % u_out_shape.y, p.x % u_out_shape.z, t % groups);
  bvec4 used = lessThan(o.w * 4 + ivec4(0, 1, 2, 3), ivec4(u_out_shape.w));
  ${pixels > 1
    ? `vec4 r[PIXELS];
  run(o, r);
  ${outputs.map((k) => `fragColor${k} = mix(vec4(0.0), r[${k}], used);`).join("\n  ")}`
    : "fragColor = mix(vec4(0.0), run(o), used);"}
}`,
  );
  return lines.join("\n");
}
