#!/usr/bin/env node
// Second ONNX Runtime client for `implicitreg rewrite` step models (issue 4, "Done when").
//
//   node run-step.mjs TRAIN.onnx TRAIN.init.onnx DATA.npz LR [--expected EXPECTED.npz] [--tolerance-json case.json]
//                     [--coefficients C1,C2,...]
//
// Runs the init model (no inputs; its outputs are the initial parameters and optimizer states, named
// like the step model's inputs), feeds DATA.npz (model inputs by name, plus `target`), the init state
// and `learning_rate` = LR to the step model, runs ONE step and prints loss/penalty/objective.
// With --expected it checks, for every `objective_grad/P` of EXPECTED.npz, that (P − P.next)/LR matches,
// and that loss/penalty/objective match, with the oracle's error formula (../shared/oracle/README.md):
//   per tensor: max|got − expected| / (max|expected| + 0.001·largest max|expected| over all objective_grad tensors)
//   scalars:    |got − expected| / max(|expected|, 1e-6)
// Tolerances come from case.json's `tolerance` (objective: max of loss and penalty tolerances).
// With --coefficients it runs the same step again once per value with `penalty_coefficient` fed (c of
// objective = C + c·R) and checks that the objective follows it: loss and penalty as in the first run, and
// |objective − (loss + c·penalty)| ≤ 2⁻²⁴·(|c·penalty| + |loss + c·penalty|) (one float32 Mul and one float32
// Add, each rounded once), with c = 0 giving objective = loss exactly. A step model written with
// `rewrite --penalty-coefficient-input required` has `penalty_coefficient` as a required input: the main run
// then feeds the first value of --coefficients. With the default (an input with an initializer) the binding
// leaves it out of the session's inputNames and drops the feed: the objective stays the built-in one.
// Exit status: 0 all checks pass, 1 a check fails (or the step cannot run), 2 bad usage / unreadable input.

import { existsSync, readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import ort from 'onnxruntime-node';

const USAGE = 'usage: node run-step.mjs TRAIN.onnx TRAIN.init.onnx DATA.npz LR [--expected EXPECTED.npz] [--tolerance-json case.json] [--coefficients C1,C2,...]';
const COEFFICIENT = 'penalty_coefficient';
const DEFAULT_TOLERANCE = { loss: 1e-4, penalty: 1e-3, objective_grad: 3e-3 };

class UsageError extends Error {}

// ---------- .npz / .npy reader ----------

/** Reads a .npz (zip of .npy files; entries stored or deflated, zip64 tolerated). Returns Map name → {dtype, shape, data}. */
export function readNpz(path) {
  let buf;
  try { buf = readFileSync(path); } catch (e) { throw new UsageError(`${path}: ${e.message}`); }
  // End of central directory record: signature 0x06054b50, searched backwards (comment ≤ 64 KiB).
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new UsageError(`${path}: not a zip/npz file (no end-of-central-directory record)`);
  let count = buf.readUInt16LE(eocd + 10);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (cdOffset === 0xffffffff || count === 0xffff) {
    // Zip64 end of central directory locator sits just before the EOCD.
    const loc = eocd - 20;
    if (loc >= 0 && buf.readUInt32LE(loc) === 0x07064b50) {
      const z64 = Number(buf.readBigUInt64LE(loc + 8));
      count = Number(buf.readBigUInt64LE(z64 + 32));
      cdOffset = Number(buf.readBigUInt64LE(z64 + 48));
    }
  }
  const arrays = new Map();
  let p = cdOffset;
  for (let k = 0; k < count; k++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new UsageError(`${path}: bad central directory entry ${k}`);
    const method = buf.readUInt16LE(p + 10);
    let compSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let localOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    // Zip64 extended information extra field (id 0x0001): only the fields that are 0xFFFFFFFF, in order.
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = buf.readUInt16LE(e), len = buf.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) { size = Number(buf.readBigUInt64LE(q)); q += 8; }
        if (compSize === 0xffffffff) { compSize = Number(buf.readBigUInt64LE(q)); q += 8; }
        if (localOffset === 0xffffffff) { localOffset = Number(buf.readBigUInt64LE(q)); q += 8; }
      }
      e += 4 + len;
    }
    p = eEnd + commentLen;
    // Local header: its name/extra lengths may differ from the central directory's (numpy forces zip64 there).
    if (buf.readUInt32LE(localOffset) !== 0x04034b50) throw new UsageError(`${path}: bad local header for ${name}`);
    const dataStart = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
    const raw = buf.subarray(dataStart, dataStart + compSize);
    let bytes;
    if (method === 0) bytes = raw;
    else if (method === 8) bytes = inflateRawSync(raw);
    else throw new UsageError(`${path}: entry ${name} uses zip compression method ${method} (only stored and deflated are supported)`);
    if (bytes.length !== size) throw new UsageError(`${path}: entry ${name} has ${bytes.length} bytes, expected ${size}`);
    const key = name.endsWith('.npy') ? name.slice(0, -4) : name;
    arrays.set(key, parseNpy(bytes, `${path}:${name}`));
  }
  return arrays;
}

const NPY_TYPES = {
  f4: { type: 'float32', ctor: Float32Array },
  f8: { type: 'float64', ctor: Float64Array },
  i8: { type: 'int64', ctor: BigInt64Array },
  i4: { type: 'int32', ctor: Int32Array },
  b1: { type: 'bool', ctor: Uint8Array },
  u1: { type: 'uint8', ctor: Uint8Array },
};

/** Parses one .npy payload (format 1.0/2.0/3.0, little-endian or byte-order-free dtypes, C or Fortran order → C order). */
export function parseNpy(bytes, what = 'npy') {
  if (bytes.length < 10 || bytes[0] !== 0x93 || bytes.toString('latin1', 1, 6) !== 'NUMPY') throw new UsageError(`${what}: not a .npy payload`);
  const major = bytes[6];
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = bytes.toString(major >= 3 ? 'utf8' : 'latin1', headerStart, headerStart + headerLen);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new UsageError(`${what}: cannot parse header ${header.trim()}`);
  const order = descr[0];
  const info = NPY_TYPES[descr.slice(1)];
  if (!info || order === '>') throw new UsageError(`${what}: dtype ${descr} is not supported (float32, float64, int64, int32, bool, uint8; little-endian)`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const start = headerStart + headerLen;
  const byteLen = n * info.ctor.BYTES_PER_ELEMENT;
  if (bytes.length - start < byteLen) throw new UsageError(`${what}: truncated data (${bytes.length - start} bytes for ${n} elements of ${descr})`);
  // Copy into a fresh, aligned ArrayBuffer (typed arrays need element-aligned offsets).
  const ab = new ArrayBuffer(byteLen);
  new Uint8Array(ab).set(bytes.subarray(start, start + byteLen));
  let data = new info.ctor(ab);
  if (fortran === 'True' && shape.length > 1) data = fortranToC(data, shape);
  return { dtype: info.type, shape, data };
}

/** Reorders a column-major (Fortran) array into row-major (C) order. */
function fortranToC(src, shape) {
  const dst = new src.constructor(src.length);
  const rank = shape.length;
  const fStride = new Array(rank);
  for (let d = 0, s = 1; d < rank; d++) { fStride[d] = s; s *= shape[d]; }
  const idx = new Array(rank).fill(0);
  for (let i = 0; i < src.length; i++) {            // i walks C order; idx is its multi-index
    let off = 0;
    for (let d = 0; d < rank; d++) off += idx[d] * fStride[d];
    dst[i] = src[off];
    for (let d = rank - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
  }
  return dst;
}

// ---------- helpers ----------

function toNumbers(data) {
  // Float64 view of any numeric typed array (BigInt64Array included).
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}

function maxAbs(a) { let m = 0; for (const v of a) m = Math.max(m, Math.abs(v)); return m; }

function scalarOf(t, what) {
  if (t.data.length !== 1) throw new Error(`${what} has ${t.data.length} elements, expected a scalar`);
  return Number(t.data[0]);
}

function fmt(x) { return Number.isFinite(x) ? x.toPrecision(7) : String(x); }

function toTensor(arr, name) {
  return new ort.Tensor(arr.dtype, arr.data, arr.shape);
}

/** Casts a data tensor to the element type the session declares for `name`, when metadata says so. */
function castTo(arr, wanted) {
  if (!wanted || wanted === arr.dtype) return arr;
  const ctor = { float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array, bool: Uint8Array, uint8: Uint8Array }[wanted];
  if (!ctor) return arr;
  const data = new ctor(arr.data.length);
  for (let i = 0; i < data.length; i++) {
    const v = arr.data[i];
    data[i] = ctor === BigInt64Array ? BigInt(Math.trunc(Number(v))) : (wanted === 'bool' ? (Number(v) !== 0 ? 1 : 0) : Number(v));
  }
  return { dtype: wanted, shape: arr.shape, data };
}

function inputTypes(session) {
  // onnxruntime-node ≥ 1.21 exposes inputMetadata: [{name, isTensor, type, shape}].
  const types = new Map();
  for (const m of session.inputMetadata ?? []) if (m?.isTensor && m.type) types.set(m.name, m.type);
  return types;
}

function parseArgs(argv) {
  const pos = [];
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--expected' || a === '--tolerance-json' || a === '--coefficients') {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      opts[a.slice(2)] = argv[++i];
    } else if (a === '-h' || a === '--help') {
      console.log(USAGE); process.exit(0);
    } else if (a.startsWith('--')) {
      throw new UsageError(`unknown option ${a}`);
    } else pos.push(a);
  }
  if (pos.length !== 4) throw new UsageError(`expected 4 positional arguments, got ${pos.length}`);
  const lr = Number(pos[3]);
  if (!Number.isFinite(lr) || lr <= 0) throw new UsageError(`LR must be a positive number, not ${pos[3]}`);
  for (const f of [pos[0], pos[1], pos[2], opts.expected, opts['tolerance-json']]) if (f && !existsSync(f)) throw new UsageError(`${f}: no such file`);
  if (opts['tolerance-json'] && !opts.expected) throw new UsageError('--tolerance-json needs --expected');
  const coefficients = opts.coefficients === undefined ? [] : opts.coefficients.split(',').map((t) => {
    const v = Number(t);
    if (t.trim() === '' || !Number.isFinite(v) || v < 0) throw new UsageError(`--coefficients: ${t} is not a non-negative number`);
    return v;
  });
  return { train: pos[0], init: pos[1], data: pos[2], lr, expected: opts.expected, caseJson: opts['tolerance-json'], coefficients };
}

// ---------- main ----------

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const options = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' };

  const data = readNpz(args.data);
  let expected = null, tolerance = { ...DEFAULT_TOLERANCE }, trainableFromCase = null;
  if (args.expected) expected = readNpz(args.expected);
  if (args.caseJson) {
    let c;
    try { c = JSON.parse(readFileSync(args.caseJson, 'utf8')); } catch (e) { throw new UsageError(`${args.caseJson}: ${e.message}`); }
    tolerance = { ...tolerance, ...(c.tolerance ?? {}) };
    trainableFromCase = c.trainable ?? null;
  }

  let initSession, stepSession;
  try {
    initSession = await ort.InferenceSession.create(args.init, options);
    stepSession = await ort.InferenceSession.create(args.train, options);
  } catch (e) {
    console.error(`onnxruntime-node ${ort.env.versions?.node ?? '?'} cannot load the models: ${e.message}`);
    return 1;
  }
  if (initSession.inputNames.length !== 0) console.error(`warning: init model has inputs ${initSession.inputNames.join(', ')}; running it with no feeds`);
  const state = await initSession.run({});

  const types = inputTypes(stepSession);
  const feeds = {};
  const missing = [];
  for (const name of stepSession.inputNames) {
    if (name === 'learning_rate') feeds[name] = new ort.Tensor('float32', Float32Array.of(args.lr), []);
    else if (name === COEFFICIENT) continue;  // a required coefficient input is fed by --coefficients only
    else if (data.has(name)) feeds[name] = toTensor(castTo(data.get(name), types.get(name)), name);
    else if (name in state) feeds[name] = state[name];
    else missing.push(name);
  }
  if (stepSession.inputNames.includes(COEFFICIENT) && args.coefficients.length === 0) {
    missing.push(`${COEFFICIENT} (a required input in this model; give --coefficients)`);
  }
  if (missing.length) {
    console.error(`step model inputs with no value (neither in ${args.data}, the init model's outputs nor learning_rate): ${missing.join(', ')}`);
    return 1;
  }
  for (const k of data.keys()) if (!stepSession.inputNames.includes(k)) console.error(`warning: ${args.data} entry ${k} is not a step-model input; ignored`);

  let out;
  const required = stepSession.inputNames.includes(COEFFICIENT);
  try {
    out = await stepSession.run(required ? { ...feeds, [COEFFICIENT]: coefficientTensor(args.coefficients[0]) } : feeds);
  } catch (e) {
    console.error(`step run failed: ${e.message}`);
    return 1;
  }

  let failed = false;
  const line = (key, got, exp, err, tol) => {
    if (exp === undefined) { console.log(`${key.padEnd(28)} ${fmt(got)}`); return; }
    const ok = Number.isFinite(err) && err <= tol;
    if (!ok) failed = true;
    console.log(`${key.padEnd(28)} got ${fmt(got).padStart(14)}  expected ${fmt(exp).padStart(14)}  err ${err.toExponential(2)}  tol ${tol}  ${ok ? 'PASS' : 'FAIL'}`);
  };

  const scalarTol = { loss: tolerance.loss, penalty: tolerance.penalty, objective: Math.max(tolerance.loss, tolerance.penalty) };
  for (const key of ['loss', 'penalty', 'objective']) {
    if (!(key in out)) { console.log(`${key.padEnd(28)} missing from the step model's outputs  FAIL`); failed = true; continue; }
    const got = scalarOf(out[key], key);
    if (expected?.has(key)) {
      const exp = Number(expected.get(key).data[0]);
      line(key, got, exp, Math.abs(got - exp) / Math.max(Math.abs(exp), 1e-6), scalarTol[key]);
    } else line(key, got);
  }

  if (expected) {
    const gradKeys = [...expected.keys()].filter((k) => k.startsWith('objective_grad/'));
    if (gradKeys.length === 0) { console.log('expected file has no objective_grad/* entries  FAIL'); failed = true; }
    const expArrays = new Map(gradKeys.map((k) => [k, toNumbers(expected.get(k).data)]));
    const largest = Math.max(0, ...[...expArrays.values()].map(maxAbs));
    for (const k of gradKeys) {
      const p = k.slice('objective_grad/'.length);
      const exp = expArrays.get(k);
      if (!(p in feeds) || !(`${p}.next` in out)) {
        console.log(`${k.padEnd(28)} parameter ${p} is not a step-model input with a ${p}.next output  FAIL`);
        failed = true; continue;
      }
      const before = toNumbers(feeds[p].data), after = toNumbers(out[`${p}.next`].data);
      if (before.length !== exp.length || after.length !== exp.length) {
        console.log(`${k.padEnd(28)} size mismatch: ${p} ${before.length}, ${p}.next ${after.length}, expected ${exp.length}  FAIL`);
        failed = true; continue;
      }
      let maxErr = 0;
      for (let i = 0; i < exp.length; i++) maxErr = Math.max(maxErr, Math.abs((before[i] - after[i]) / args.lr - exp[i]));
      if (Number.isNaN(maxErr)) maxErr = Infinity;
      const m = maxAbs(exp);
      line(k, maxAbs(before.map((b, i) => (b - after[i]) / args.lr)), m, maxErr / (m + 0.001 * largest), tolerance.objective_grad);
    }
    if (trainableFromCase) {
      const listed = new Set(gradKeys.map((k) => k.slice('objective_grad/'.length)));
      for (const t of trainableFromCase) if (!listed.has(t)) { console.log(`trainable ${t} of case.json has no objective_grad entry  FAIL`); failed = true; }
    }
    console.log(failed ? 'RESULT FAIL' : 'RESULT PASS');
  }
  if (args.coefficients.length > 0) {
    const ok = await checkCoefficients(stepSession, feeds, out, args.coefficients, required);
    console.log(ok ? 'RESULT-COEFFICIENT PASS' : 'RESULT-COEFFICIENT FAIL');
    failed ||= !ok;
  }
  return failed ? 1 : 0;
}

function coefficientTensor(c) { return new ort.Tensor('float32', Float32Array.of(c), []); }

/**
 * Runs the step once per coefficient with `penalty_coefficient` fed and checks objective = C + c·R within float32
 * rounding. A model with the default form of the input (an initializer of the same name) is fed too, whether the
 * binding lists it or not: onnxruntime-node's inputNames leave it out and the feed is dropped, which this shows.
 */
async function checkCoefficients(session, feeds, first, coefficients, required) {
  const loss = scalarOf(first.loss, 'loss'), penalty = scalarOf(first.penalty, 'penalty');
  console.log(`${COEFFICIENT}: ${required ? 'a required input' : 'not among the session\'s inputNames (an input with a default); fed anyway'}`);
  let ok = true;
  for (const c of coefficients) {
    let out;
    try {
      out = await session.run({ ...feeds, [COEFFICIENT]: coefficientTensor(c) });
    } catch (e) {
      console.log(`${COEFFICIENT} = ${c}: step run failed: ${e.message}  FAIL`);
      ok = false; continue;
    }
    const l = scalarOf(out.loss, 'loss'), p = scalarOf(out.penalty, 'penalty'), o = scalarOf(out.objective, 'objective');
    const cf = Math.fround(c);
    const product = cf * p, expected = l + product;   // in double: the float32 result may differ by two roundings
    const bound = 2 ** -24 * (Math.abs(product) + Math.abs(expected));
    const pass = l === loss && p === penalty && Math.abs(o - expected) <= bound && (cf !== 0 || o === l);
    if (!pass) ok = false;
    console.log(`${(COEFFICIENT + ' = ' + c).padEnd(28)} loss ${fmt(l)}  penalty ${fmt(p)}  objective ${fmt(o)}  loss + c·penalty ${fmt(expected)}  ${pass ? 'PASS' : 'FAIL'}`);
  }
  return ok;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = await main();
  } catch (e) {
    if (e instanceof UsageError) { console.error(e.message); console.error(USAGE); process.exitCode = 2; }
    else { console.error(e?.stack ?? String(e)); process.exitCode = 1; }
  }
}
