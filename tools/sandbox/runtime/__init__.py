"""The part of the sandbox that runs next to untrusted code: worker, per-run child, guards.

Standard library only (it preloads numpy and geometry by name), because it is copied, with
the geometry package, into every place that runs programs: the local pool's library folder
and remote sandboxes. The host side lives one level up and never imports user code.
"""
