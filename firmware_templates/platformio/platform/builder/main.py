"""Build a bare-metal Cortex-M firmware and upload it: to QEMU for emulated boards, over ST-Link
for STM32 boards. Board settings come from the board manifest the project provides."""

import os
import shutil

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()
cpu_flags = board.get("build.rune.cpu_flags")

env.Replace(AR="arm-none-eabi-gcc-ar", AS="arm-none-eabi-as", CC="arm-none-eabi-gcc", CXX="arm-none-eabi-g++",
            OBJCOPY="arm-none-eabi-objcopy", RANLIB="arm-none-eabi-gcc-ranlib", SIZETOOL="arm-none-eabi-size",
            PROGNAME="firmware", PROGSUFFIX=".elf", SIZEPROGREGEXP=r"^(?:\.text|\.data|\.rune|\.ARM\.exidx)\s+(\d+).*",
            SIZEDATAREGEXP=r"^(?:\.data|\.bss|\.noinit)\s+(\d+).*", SIZECHECKCMD="$SIZETOOL -A -d $SOURCES")
env.Append(
    ASFLAGS=cpu_flags, ASPPFLAGS=cpu_flags + ["-x", "assembler-with-cpp"],
    CCFLAGS=cpu_flags + ["-Os", "-ffunction-sections", "-fdata-sections", "-fno-common", "-Wall"],
    LINKFLAGS=cpu_flags + ["-nostartfiles", "-Wl,--gc-sections", "-Wl,-Map=$BUILD_DIR/firmware.map", "--specs=nano.specs", "--specs=nosys.specs",
                           "-u", "_printf_float", "-u", "_scanf_float"],
    LIBS=["m"],
)

firmware = env.BuildProgram()
binary = env.Command("$BUILD_DIR/firmware.bin", firmware, "$OBJCOPY -O binary $SOURCE $TARGET")

protocol = env.subst("$UPLOAD_PROTOCOL")
if protocol == "qemu":
    # The emulator starts paused and detached: `rune flash` connects to its serial port, then
    # lets it run, so that no output is lost. RUNE_QEMU_* say where to listen.
    upload = ("qemu-system-arm -M %s -display none -monitor none -nodefaults -kernel $SOURCE "
              "-semihosting-config enable=on,target=native -icount shift=0,align=off,sleep=off "
              "-serial tcp:127.0.0.1:%s,server=on,wait=off -S -qmp unix:%s,server=on,wait=off "
              "-daemonize -pidfile %s" % (board.get("build.rune.qemu_machine"), os.environ.get("RUNE_QEMU_PORT", "4444"),
                                          os.environ.get("RUNE_QEMU_QMP", "/tmp/rune-qemu.qmp"),
                                          os.environ.get("RUNE_QEMU_PIDFILE", "/tmp/rune-qemu.pid")))
    source = firmware
elif protocol == "stlink":
    if shutil.which("st-flash"):
        upload = "st-flash --reset write $SOURCE %s" % board.get("build.rune.flash_origin")
        source = binary
    else:
        upload = ('openocd -f interface/stlink.cfg -f target/stm32f4x.cfg '
                  '-c "program $SOURCE verify reset exit"')
        source = firmware
else:
    upload = "echo 'no upload for protocol %s' && false" % protocol
    source = firmware

AlwaysBuild(env.Alias("upload", source, env.VerboseAction(upload, "Uploading $SOURCE")))
Default([firmware, binary])
