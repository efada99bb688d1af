// Reference run of a TFJS graph model with the pure-JavaScript TensorFlow.js CPU backend.
//
// Used by tests/models/test_tfjs.py to check mattekit's TFJS -> ONNX conversion. It reads a job
// (JSON) from the file named by its one argument:
//
//   {
//     "tfjs": "<the node_modules folder holding @tensorflow/tfjs, or the folder above it>",
//     "model": "<model.json>",              // weights: the paths its manifest names, beside it
//     "frames": [{"<input>": {"file": "<raw float32 file>", "shape": [...]}, ...}, ...],
//     "state": {"<output>": "<input>", ...},   // outputs carried into the next frame's inputs
//     "outputs": ["<output>", ...],           // signature output names to write
//     "out": "<folder>"
//   }
//
// Frame i's inputs are the files it names plus, from the second frame on, the carried outputs
// of frame i-1 (the first frame must name every input itself). Outputs may also name any graph
// tensor ("node:port"). For every frame i and output it writes <out>/<i>_<name>.f32 (raw
// little-endian float32, row-major; characters other than [A-Za-z0-9_.-] in the name become _)
// and finally <out>/shapes.json ({"<i>_<name>": [dims...], "ms": [milliseconds per frame]}).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const require = createRequire(path.join(path.resolve(job.tfjs), 'index.js'));
const tf = require('@tensorflow/tfjs');

function readFloat32(file, shape) {
  const bytes = readFileSync(file);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new Error(`${file}: ${data.length} floats, shape ${shape} needs ${size}`);
  return tf.tensor(data, shape, 'float32');
}

function artifacts(modelFile) {
  const model = JSON.parse(readFileSync(modelFile, 'utf8'));
  const dir = path.dirname(modelFile);
  const weightSpecs = [];
  const shards = [];
  for (const group of model.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) shards.push(readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(shards);
  return {
    modelTopology: model.modelTopology,
    format: model.format,
    generatedBy: model.generatedBy,
    convertedBy: model.convertedBy,
    signature: model.signature,
    userDefinedMetadata: model.userDefinedMetadata,
    weightSpecs,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length),
  };
}

async function main() {
  await tf.setBackend('cpu');
  await tf.ready();
  const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts(job.model)));
  mkdirSync(job.out, { recursive: true });
  const shapes = { ms: [] };
  let carried = {};
  for (const [i, frame] of job.frames.entries()) {
    const inputs = { ...carried };
    for (const [name, spec] of Object.entries(frame)) {
      if (name in inputs) tf.dispose(inputs[name]);
      inputs[name] = readFloat32(spec.file, spec.shape);
    }
    const start = performance.now();
    const raw = await model.executeAsync(inputs, job.outputs);
    shapes.ms.push(performance.now() - start);
    const results = Array.isArray(raw) ? raw : [raw]; // one output comes back bare
    const byName = Object.fromEntries(job.outputs.map((n, k) => [n, results[k]]));
    for (const [name, tensor] of Object.entries(byName)) {
      const data = await tensor.data();
      const file = `${i}_${name.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
      writeFileSync(path.join(job.out, `${file}.f32`), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      shapes[file] = tensor.shape;
    }
    tf.dispose(Object.values(inputs));
    carried = {};
    for (const [output, input] of Object.entries(job.state || {})) carried[input] = byName[output];
    tf.dispose(Object.entries(byName).filter(([n]) => !(n in (job.state || {}))).map(([, t]) => t));
  }
  writeFileSync(path.join(job.out, 'shapes.json'), JSON.stringify(shapes));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
