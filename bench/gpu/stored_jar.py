"""Rewrites a jar with its entries STORED (not deflated), dropping entries that match any of the
given glob patterns: the shaded jars of loraflow for a GPU host (no CPU libtorch, no stock DJL JNI,
no other platforms' natives). Stored jars compress about twice as well under xz as deflated ones,
which is what the 64 MiB a device call carries needs. Java reads stored entries as is.
usage: python3 stored_jar.py IN.jar OUT.jar [PATTERN ...]"""
import fnmatch
import sys
import zipfile

src, dst, *drop = sys.argv[1:]
kept = dropped = 0
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
    for info in zin.infolist():
        if any(fnmatch.fnmatch(info.filename, p) for p in drop):
            # the patterns are for natives of other platforms: a class they match is a pattern
            # that reaches too far (session 17's com/sun/jna/[!l]* dropped all of JNA's classes,
            # so DJL's CudaUtils could not read the GPU's memory and checkpointing stayed on)
            if info.filename.endswith(".class"):
                sys.exit(f"stored_jar: a drop pattern matches the class {info.filename}; narrow it")
            dropped += 1
            continue
        data = zin.read(info.filename)
        out = zipfile.ZipInfo(info.filename, info.date_time)
        out.external_attr = info.external_attr
        out.compress_type = zipfile.ZIP_STORED
        zout.writestr(out, data)
        kept += 1
print(f"{dst}: {kept} entries kept, {dropped} dropped")
