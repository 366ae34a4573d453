"""No secret (signing keys, bearer tokens) in logs, errors, decision records or the C2PA
manifest."""

from __future__ import annotations

import logging
import os

import grpc
import pytest

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.auth import token_digest
from signing.signer import KeyFileSigner, SigningKeyError
from tests.support import Running, encode, make_config, output_bytes, sql


def key_material(path) -> list[str]:
    """Distinctive pieces of a PEM private key: each base64 line of its body."""
    lines = path.read_text().strip().splitlines()[1:-1]
    return [line for line in lines if len(line) > 20]


def test_the_signing_key_never_leaks(tmp_path, caplog, coffee, astronaut):
    caplog.set_level(logging.DEBUG)
    r = Running(make_config(tmp_path))
    try:
        secrets = key_material(r.config.keys_dir / "signer.key")
        secrets += key_material(r.config.keys_dir / "root.key")
        assert secrets
        events = r.generate("steam over a cup", encode(coffee, "JPEG"))
        blocked = r.generate("a portrait", encode(astronaut))
        with pytest.raises(grpc.RpcError) as err:
            r.generate("x", b"not an image")
        signed = output_bytes(events)
        # Bearer tokens: the admin's, and a client's used, revoked, then used again.
        token, channel = r.client("generator-client", "studio-a")
        check = rpc.ModerationStub(channel).Check(pb.CheckRequest(prompt="a cat"))
        r.service.auth.revoke(r.service.store.client_by_token(token_digest(token)).id)
        with pytest.raises(grpc.RpcError) as revoked:
            rpc.ModerationStub(channel).Check(pb.CheckRequest(prompt="a cat"))
        secrets += [r.admin_token, token]
        records = sql(r.service.store, "SELECT evidence FROM decisions")
        exposed = "\n".join(
            [
                caplog.text,
                err.value.details(),
                revoked.value.details(),
                str(check),
                signed.decode("latin-1"),
                *(str(e) for e in events + blocked),
                *(row[0] for row in records),
            ]
        )
        for secret in secrets:
            assert secret not in exposed
    finally:
        r.close()


def test_signing_key_errors_name_the_file_not_its_content(tmp_path, caplog):
    from signing.keys import init_dev_chain

    caplog.set_level(logging.DEBUG)
    paths = init_dev_chain(tmp_path)
    secrets = key_material(paths.key)
    os.chmod(paths.key, 0o644)
    with pytest.raises(SigningKeyError) as err:
        KeyFileSigner(paths.key, paths.chain)
    os.chmod(paths.key, 0o600)
    paths.key.write_text(paths.key.read_text().replace("A", "!", 3))  # corrupt, still secret
    with pytest.raises(SigningKeyError) as err2:
        KeyFileSigner(paths.key, paths.chain)
    for secret in secrets:
        assert secret not in str(err.value) + str(err2.value) + caplog.text
