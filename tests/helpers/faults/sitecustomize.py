"""A backend that misbehaves on request, inside the real model host process, for the host-failure tests.

A process with this folder on PYTHONPATH and PHITRAY_FAULTS set imports this module at start (site.py),
before anything imports phitray.backends.chain, and wraps the backend PHITRAY_FAULT_BACKEND (default
openvino-cpu) that backends/registry.py builds: the model host it spawns inherits the environment, and
so the fault. The wrapped backend is the real one, doing the real work, except:

- PHITRAY_FAULTS holds "hang-load": its load never returns, as a driver's compile that hangs;
- a prompt holding HANG-BEFORE streams nothing and never returns; HANG streams a word, then never returns,
  and neither heeds a cancel, as a driver call that hangs;
- a prompt holding LOSE streams a word, then raises the library error PHITRAY_FAULT_ERROR (default: OpenVINO's
  NPU plugin's ZE_RESULT_ERROR_DEVICE_LOST, word for word), as after a driver reset;
- a prompt holding DUMPABLE answers "dumpable=<prctl(PR_GET_DUMPABLE)>" (Linux), read in the host itself.
"""

import os

_FAULTS = os.environ.get("PHITRAY_FAULTS")
NPU_DEVICE_LOST = (
    "Exception from src\\inference\\src\\cpp\\infer_request.cpp:245:\n"
    "Exception from src\\plugins\\intel_npu\\src\\utils\\src\\zero\\zero_wrappers.cpp:182:\n"
    "L0 zeCommandQueueExecuteCommandLists result: ZE_RESULT_ERROR_DEVICE_LOST, code 0x70000001 - device hung, "
    "reset, was removed, or driver update occurred\n\n"
)

if _FAULTS is not None:
    import threading

    from phitray.backends import registry

    _create = registry.create_backend
    _TARGET = os.environ.get("PHITRAY_FAULT_BACKEND", "openvino-cpu")

    def _forever() -> None:
        threading.Event().wait()

    class FaultyBackend:
        def __init__(self, backend):  # type: ignore[no-untyped-def]
            self.inner, self.id = backend, backend.id

        def probe(self):  # type: ignore[no-untyped-def]
            return self.inner.probe()

        def load(self, model, progress):  # type: ignore[no-untyped-def]
            if "hang-load" in _FAULTS.split(","):
                progress("loading (and hanging)")
                _forever()
            return self.inner.load(model, progress)

        def stream(self, request, cancel):  # type: ignore[no-untyped-def]
            if "HANG-BEFORE" in request.prompt:
                _forever()
            if "HANG" in request.prompt or "LOSE" in request.prompt:
                yield "Once"
                if "HANG" in request.prompt:
                    _forever()
                raise RuntimeError(os.environ.get("PHITRAY_FAULT_ERROR", NPU_DEVICE_LOST))
            if "DUMPABLE" in request.prompt:
                import ctypes

                yield f"dumpable={ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)}"  # PR_GET_DUMPABLE
                return
            yield from self.inner.stream(request, cancel)

        def count_tokens(self, text):  # type: ignore[no-untyped-def]
            return self.inner.count_tokens(text)

        def unload(self):  # type: ignore[no-untyped-def]
            self.inner.unload()

    def create_backend(backend_id, cache_dir, decoding=None):  # type: ignore[no-untyped-def]
        backend = _create(backend_id, cache_dir, *([decoding] if decoding is not None else []))
        return FaultyBackend(backend) if backend_id == _TARGET else backend

    registry.create_backend = create_backend
