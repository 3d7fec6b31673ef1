"""The Windows installer's rules that Wine cannot single out (packaging/windows): which processes the
installer and the uninstaller stop before they touch the program's files, and what the install list names.
tests/windows/test_installed.py runs them for real: an upgrade over the running agent, an uninstall while it
runs, a folder that was there before the install."""

from __future__ import annotations

from pathlib import Path

from helpers.windows_packaging import load


def test_only_programs_inside_the_install_folder_are_the_agents() -> None:
    belongs_to = load("stop_agent").belongs_to
    folder = r"C:\Users\Håkan 張\AppData\Local\Phi Tray"
    assert belongs_to(folder + r"\Python\pythonw.exe", folder)
    assert belongs_to(folder.upper() + r"\PYTHON\PYTHON.EXE", folder)  # Windows paths ignore case
    assert belongs_to(folder.replace("\\", "/") + "/Python/pythonw.exe", folder + "\\")
    # A sibling folder whose name begins the same, and Python elsewhere, are not the agent's.
    assert not belongs_to(r"C:\Users\Håkan 張\AppData\Local\Phi Tray 2\Python\pythonw.exe", folder)
    assert not belongs_to(r"C:\Program Files\Python311\pythonw.exe", folder)
    assert not belongs_to(folder + r"\..\Other\python.exe", folder)


def stage(root: Path, files: list[str]) -> Path:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    return root


def test_the_install_list_names_every_file_the_installer_lays_out_and_its_folders_deepest_first(tmp_path: Path) -> None:
    build = load("build")
    nsis = stage(tmp_path, ["installer.nsi", "stop_agent.py", "Phi_Tray.launch.pyw", "phitray.ico", "phitray.png",
                            "msvcp140.dll", "Python/python.exe", "lib/tcl8.6/init.tcl", "pkgs/phitray/__init__.py",
                            "pkgs/phitray/ui/tray.py", "pkgs/openvino/libs/openvino.dll"])
    listed = build.install_list(nsis)
    files = [line[2:] for line in listed if line.startswith("f ")]
    folders = [line[2:] for line in listed if line.startswith("d ")]
    assert listed == [f"f {name}" for name in files] + [f"d {name}" for name in folders]  # files first
    assert set(files) == {
        "Phi_Tray.launch.pyw", "phitray.ico", "phitray.png", "Python\\msvcp140.dll", "Python\\python.exe",
        "lib\\tcl8.6\\init.tcl", "pkgs\\phitray\\__init__.py", "pkgs\\phitray\\ui\\tray.py",
        "pkgs\\openvino\\libs\\openvino.dll",
        # what compileall writes at install, and what the installer itself writes
        "pkgs\\phitray\\__pycache__\\__init__.cpython-311.pyc", "pkgs\\phitray\\ui\\__pycache__\\tray.cpython-311.pyc",
        "uninstall.exe", "_user_install_marker", "install-list.txt"}
    assert folders.index("pkgs\\phitray\\ui\\__pycache__") < folders.index("pkgs\\phitray\\ui") < \
        folders.index("pkgs\\phitray") < folders.index("pkgs")
    assert {"Python", "lib", "lib\\tcl8.6", "pkgs\\openvino\\libs"} <= set(folders)


def test_a_staged_file_the_list_cannot_place_stops_the_build(tmp_path: Path) -> None:
    build = load("build")
    stage(tmp_path, ["Python/python.exe", "README.txt"])
    try:
        build.install_list(tmp_path)
    except SystemExit as stop:
        assert "README.txt" in str(stop)
    else:
        raise AssertionError("an unplaced file went unnoticed")


def test_pruning_leaves_out_what_the_agent_never_loads_and_keeps_what_it_does(tmp_path: Path) -> None:
    build = load("build")
    keep = ["openvino/libs/openvino.dll", "openvino/libs/openvino_intel_cpu_plugin.dll",
            "openvino/libs/openvino_ir_frontend.dll", "openvino/libs/openvino_gguf_frontend.dll",
            "openvino/libs/openvino_intel_npu_plugin.dll", "onnxruntime/capi/onnxruntime.dll", "PIL/_imaging.pyd",
            "onnxruntime/LICENSE", "numpy/testing/__init__.py"]
    gone = ["openvino/libs/openvino_tensorflow_frontend.dll", "openvino/libs/openvino_onnx_frontend.lib",
            "openvino/libs/openvino.lib", "openvino/libs/openvino_intel_npu_compiler.dll", "openvino/include/ov.hpp",
            "openvino/frontend/pytorch/__init__.py", "onnxruntime/capi/onnxruntime_pybind11_state.pyd",
            "onnxruntime/transformers/x.py", "PIL/_avif.cp311-win_amd64.pyd", "hf_xet/__init__.py",
            "hf_xet-1.8.0.dist-info/METADATA", "numpy/_core/tests/test_x.py"]
    pkgs = stage(tmp_path / "pkgs", keep + gone)
    assert build.prune(pkgs) == len(gone)  # one byte each
    assert all((pkgs / name).exists() for name in keep)
    assert not any((pkgs / name).exists() for name in gone)
