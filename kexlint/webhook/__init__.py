"""Admission-webhook side of kexlint: serving certificates, deployment manifests and (elsewhere) the server.

Deliberately empty of imports: ``kexlint``'s lint path must never pull in flask or cryptography, which
are only installed with the ``webhook`` extra. Import the submodules you need directly.
"""
