"""The desktop runtime: load a .rune, give its capabilities sources, run it, get its outputs.

    from rune.runtime import Runtime, SoundSource

    with Runtime.load("micro_speech.rune") as rune:
        rune.set_source("audio", SoundSource("examples/micro_speech/samples/yes_1000ms.wav"))
        for output in rune.run():
            print(output.channel, output.value)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rune import abi
from rune.container import wasm
from rune.container.rune_file import REBUILD, RuneFile, RuneFileError
from rune.diagnostics import RuneError
from rune.runtime.engines import EngineCrash, EngineTimeout, EngineTrap, create_engine
from rune.runtime.errors import BadRune, MissingSource, RunError, SourceError, StageFailed, Timeout, Trap
from rune.runtime.host import Host
from rune.runtime.models import create_backend
from rune.runtime.outputs import Output
from rune.runtime.sources import CapabilitySpec, Source

DEFAULT_TIMEOUT = 5.0
MAX_TIMEOUT = 24 * 3600.0  # a limit, not infinity: a time limit must be able to pass


class Runtime:
    def __init__(self, rune: RuneFile, *, engine: str = "wasmtime", model_engine: str = "tflm",
                 timeout: float = DEFAULT_TIMEOUT):
        if rune.manifest["abi"] != abi.ABI_VERSION:
            raise BadRune(f"the rune uses ABI v{rune.manifest['abi']}; this runtime implements v{abi.ABI_VERSION}",
                          hint="rebuild it with this version of rune")
        try:
            problems = abi.module_problems(rune.data)
        except wasm.WasmError as e:
            raise BadRune(f"the rune's module is malformed: {e}", hint=REBUILD) from None
        if problems:
            raise BadRune(f"the rune's module breaks the ABI: {'; '.join(problems)}")
        if not 0 < timeout <= MAX_TIMEOUT:  # (also refuses nan)
            raise ValueError(f"the time limit must be more than 0 and at most {MAX_TIMEOUT:g} seconds, not {timeout}")
        self.rune = rune
        self.manifest = rune.manifest
        self.engine_name = engine
        self.timeout = timeout
        self.capabilities = [CapabilitySpec.from_manifest(c) for c in self.manifest["capabilities"]]
        self.sources: dict[int, Source] = {}
        backend = create_backend(model_engine)
        self.models = [backend.load(rune.model_bytes(m["index"]), m, rune.plan_bytes(m["index"]))
                       for m in self.manifest["models"]]
        self.host = Host(self.manifest, self._capability_bytes, self.models)
        self.engine = None
        self._start()

    @classmethod
    def load(cls, rune: str | Path | bytes | RuneFile, **options) -> "Runtime":
        """Load a .rune from a path, its bytes, or a RuneFile."""
        try:
            if isinstance(rune, RuneFile):
                loaded = rune
            elif isinstance(rune, (bytes, bytearray, memoryview)):
                loaded = RuneFile.from_bytes(bytes(rune))
            else:
                loaded = RuneFile.load(rune)
        except RuneFileError as e:
            raise BadRune(e.message, hint=e.hint) from None
        return cls(loaded, **options)

    # -- sources ---------------------------------------------------------------------------

    def capability(self, key: str | int) -> CapabilitySpec:
        for spec in self.capabilities:
            if spec.index == key or spec.stage == key:
                return spec
        names = ", ".join(c.stage for c in self.capabilities) or "none"
        raise RunError(f"the rune has no capability '{key}' (capabilities: {names})")

    def set_source(self, capability: str | int, source: Source) -> None:
        self.sources[self.capability(capability).index] = source

    def missing_sources(self) -> list[CapabilitySpec]:
        return [c for c in self.capabilities if c.index not in self.sources]

    def remaining(self) -> int | None:
        """How many more inferences the sources can feed (None: unlimited)."""
        counts = []
        for index, source in self.sources.items():
            spec = self.capabilities[index]
            try:
                counts.append(source.remaining(spec))
            except SourceError as e:
                raise e if e.stage else e.at_stage(spec.stage) from None
        counts = [c for c in counts if c is not None]
        return min(counts) if counts else None

    def _capability_bytes(self, index: int) -> bytes:
        spec = self.capabilities[index]
        source = self.sources[index]
        try:
            value = source.read(spec)
        except SourceError as e:
            raise e if e.stage else e.at_stage(spec.stage) from None  # say which capability it was feeding
        if type(value) is np.ndarray and value.dtype == spec.wire_dtype and value.size == spec.count:
            return value.tobytes()  # the usual case: nothing to convert
        return capability_bytes(spec, value, source)

    # -- running ---------------------------------------------------------------------------

    def _start(self) -> None:
        """(Re)create the engine and initialise the rune: after a timeout its state is gone."""
        try:
            self.engine = create_engine(self.engine_name, self.rune.data, self.host, self.timeout)
            self.engine.call("_initialize")
            self.status_address = self.engine.call("rune_status") & 0xFFFFFFFF  # an address: unsigned
        except EngineCrash as e:
            self.engine = None
            raise BadRune(str(e)) from None
        except (EngineTrap, EngineTimeout) as e:
            self.engine = None
            raise BadRune(f"the rune failed while starting: {e or 'time limit'}") from None
        if self.status_address + abi.STATUS_LAYOUT.size > self.engine.memory_size:
            self._stop()
            raise BadRune(f"the rune's status block (at {self.status_address}) lies outside its "
                          f"{self.engine.memory_size} bytes of memory")
        self._call("rune_init")

    def run(self) -> list[Output]:
        """Run the pipeline once; returns the outputs in channel order."""
        if len(self.sources) != len(self.capabilities):
            raise missing_source_error(self.missing_sources()[0])
        if self.engine is None:
            self._start()
        self._call("rune_call")
        return sorted(self.host.outputs, key=lambda o: o.channel)

    def _call(self, export: str) -> None:
        self.host.begin_call()
        try:
            code = self.engine.call(export)
        except EngineTrap as e:
            stage = self._stage_label()
            self._stop()  # its stack pointer and state may be mid-update: the next run starts afresh
            raise Trap(f"the rune trapped: {e}", stage=stage,
                       hint="a processing block read or wrote outside its buffers, or hit a bug") from None
        except EngineTimeout:
            self._stop()
            raise Timeout(f"the rune ran longer than {self.timeout:g} s and was stopped",
                          hint="raise the limit with --timeout, or look for a loop that never ends") from None
        except EngineCrash as e:
            self._stop()
            raise RunError(str(e)) from None
        if self.host.error is not None:
            # Also when the rune carried on regardless: an import the host refused makes the
            # inference faulty (docs/abi.md). What is not a RuneError is a bug in the host: it surfaces.
            raise self.host.error
        if code == abi.OK:
            return
        status = self.status()
        if status.code == abi.OK:  # the rune failed without filling in its status block
            raise StageFailed(f"the rune returned status {code} "
                              f"({abi.STATUS_NAMES.get(code, 'not a status of ABI v1')}) without saying why")
        raise StageFailed(f"{abi.STATUS_NAMES.get(status.code, f'error {status.code}')}: {status.message}",
                          stage=self._stage_label(status))

    def status(self) -> abi.Status:
        return abi.Status.unpack(self.engine.read(self.status_address, abi.STATUS_LAYOUT.size))

    def _stage_label(self, status: abi.Status | None = None) -> str | None:
        try:
            status = status or self.status()
        except (EngineCrash, EngineTimeout, EngineTrap, RuneError):
            return None
        stages = self.manifest["stages"]
        if not 0 <= status.stage < len(stages):
            return None
        stage = stages[status.stage]
        return f"{stage['name']} ({stage.get('block') or stage['target']})"

    def _stop(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None

    def reset(self) -> None:
        """Start over: block state and model state as after loading."""
        for model in self.models:
            model.reset()
        self._call("rune_init")

    def close(self) -> None:
        self._stop()

    def __enter__(self) -> "Runtime":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def capability_bytes(spec: CapabilitySpec, value, source: Source) -> bytes:
    """What a source read, as the capability's little-endian elements; anything that is not
    `spec.count` numbers (a Source subclass's mistake) is an error naming the source."""
    try:
        array = np.asarray(value)
        if array.size == spec.count:
            return np.ascontiguousarray(array, dtype=spec.wire_dtype).tobytes()
        problem = f"{array.size} values"
    except (TypeError, ValueError) as e:
        problem = f"something that is not {spec.type_name} numbers ({e})"
    raise SourceError(f"{source.description} gave {problem}; the capability takes {spec.count} "
                      f"({spec.type_name}{list(spec.dimensions)})", stage=spec.stage)


def missing_source_error(spec: CapabilitySpec) -> MissingSource:
    from rune.capabilities import KINDS

    flag = KINDS[spec.kind].flag
    return MissingSource(f"capability '{spec.stage}' ({spec.kind}) has no source",
                         hint=f"pass {flag} (or --capability {spec.stage}:PATH)" if spec.kind != "RAND"
                         else f"pass {flag}")
