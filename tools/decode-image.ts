// Decodes a PNG/JPEG with blurmap's own decoder and writes raw RGBA bytes, so
// that Python tools see exactly the pixels the engine sees.
//   node --import tsx tools/decode-image.ts <image> <out.rgba>   (prints {"width":..,"height":..})
import { writeFileSync } from "node:fs";
import { readImageFile } from "../src/node.js";

const [input, output] = process.argv.slice(2);
const image = readImageFile(input);
writeFileSync(output, image.data);
console.log(JSON.stringify({ width: image.width, height: image.height }));
