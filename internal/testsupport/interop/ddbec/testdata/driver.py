# A long-lived driver of the Python DynamoDB Encryption Client (3.3.0, run
# from source) for the differential tests of package ddbec. It reads one JSON
# request a line on stdin and answers each with one JSON line on stdout:
#
#   {"op": "provider", "name": N, "kind": "static"|"wrapped",
#    "sign": {"alg": "HmacSHA256", "key": B64} | {"alg": "SHA256withRSA", "private": B64DER, "public": B64DER},
#    "aes": B64 (static), "wrap": {"alg": "AES", "key": B64} | {"alg": "RSA", "private": B64DER, "public": B64DER}}
#   {"op": "encrypt"|"decrypt", "provider": N, "table": T, "pk": P, "sk": S or null,
#    "default": "ENCRYPT_AND_SIGN"|"SIGN_ONLY"|"DO_NOTHING", "actions": {name: action}, "item": DDB-JSON}
#
# answers {"ok": true, "item": DDB-JSON} or {"ok": false, "error": "ExceptionType: message"}.
# Binary values travel as standard base64 (DynamoDB JSON). Never prints a
# value in an error of its own; the client's messages are passed through.
#
# Needs DDBEC_PYTHON: the client's source folder (../shared/oracles/ddbec-python).
import base64
import json
import logging
import os
import sys

sys.path.insert(0, os.environ["DDBEC_PYTHON"])
logging.disable(logging.CRITICAL)  # the client logs every failed verification with a traceback

from boto3.dynamodb.types import Binary  # noqa: E402

from dynamodb_encryption_sdk.delegated_keys.jce import JceNameLocalDelegatedKey  # noqa: E402
from dynamodb_encryption_sdk.encrypted import CryptoConfig  # noqa: E402
from dynamodb_encryption_sdk.encrypted.item import decrypt_dynamodb_item, encrypt_dynamodb_item  # noqa: E402
from dynamodb_encryption_sdk.identifiers import CryptoAction, EncryptionKeyType, KeyEncodingType  # noqa: E402
from dynamodb_encryption_sdk.material_providers.static import StaticCryptographicMaterialsProvider  # noqa: E402
from dynamodb_encryption_sdk.material_providers.wrapped import WrappedCryptographicMaterialsProvider  # noqa: E402
from dynamodb_encryption_sdk.materials.raw import RawDecryptionMaterials, RawEncryptionMaterials  # noqa: E402
from dynamodb_encryption_sdk.structures import AttributeActions, EncryptionContext  # noqa: E402

SYM, PRIV, PUB = EncryptionKeyType.SYMMETRIC, EncryptionKeyType.PRIVATE, EncryptionKeyType.PUBLIC
RAW, DER = KeyEncodingType.RAW, KeyEncodingType.DER
providers = {}


def b64(s):
    return base64.b64decode(s)


def signing_keys(spec):
    alg = spec["alg"]
    if alg.startswith("Hmac"):
        k = JceNameLocalDelegatedKey(b64(spec["key"]), alg, SYM, RAW)
        return k, k
    return (JceNameLocalDelegatedKey(b64(spec["private"]), alg, PRIV, DER),
            JceNameLocalDelegatedKey(b64(spec["public"]), alg, PUB, DER))


def new_provider(req):
    sk, vk = signing_keys(req["sign"])
    if req["kind"] == "static":
        aes = JceNameLocalDelegatedKey(b64(req["aes"]), "AES", SYM, RAW)
        return StaticCryptographicMaterialsProvider(
            encryption_materials=RawEncryptionMaterials(signing_key=sk, encryption_key=aes),
            decryption_materials=RawDecryptionMaterials(verification_key=vk, decryption_key=aes),
        )
    wrap = req["wrap"]
    if wrap["alg"] == "AES":
        wk = uk = JceNameLocalDelegatedKey(b64(wrap["key"]), "AES", SYM, RAW)
    else:
        wk = JceNameLocalDelegatedKey(b64(wrap["public"]), "RSA", PUB, DER)
        uk = JceNameLocalDelegatedKey(b64(wrap["private"]), "RSA", PRIV, DER)
    # The wrapped materials verify with their signing key: an RSA private
    # key verifies through its public half.
    return WrappedCryptographicMaterialsProvider(signing_key=sk, wrapping_key=wk, unwrapping_key=uk)


def from_json(v):
    (tag, x), = v.items()
    if tag == "B":
        return {"B": b64(x)}
    if tag == "BS":
        return {"BS": [b64(m) for m in x]}
    if tag == "L":
        return {"L": [from_json(e) for e in x]}
    if tag == "M":
        return {"M": {k: from_json(e) for k, e in x.items()}}
    return {tag: x}


def raw(b):
    if isinstance(b, Binary):
        b = b.value
    return base64.b64encode(bytes(b)).decode()


def to_json(v):
    (tag, x), = v.items()
    if tag == "B":
        return {"B": raw(x)}
    if tag == "BS":
        return {"BS": [raw(m) for m in x]}
    if tag == "L":
        return {"L": [to_json(e) for e in x]}
    if tag == "M":
        return {"M": {k: to_json(e) for k, e in x.items()}}
    if tag in ("SS", "NS"):
        return {tag: list(x)}
    return {tag: x}


def crypto_config(req):
    actions = AttributeActions(
        default_action=CryptoAction[req["default"]],
        attribute_actions={k: CryptoAction[a] for k, a in req["actions"].items()},
    )
    ctx = EncryptionContext(table_name=req["table"], partition_key_name=req["pk"], sort_key_name=req.get("sk"))
    return CryptoConfig(materials_provider=providers[req["provider"]], encryption_context=ctx, attribute_actions=actions)


def handle(req):
    op = req["op"]
    if op == "provider":
        providers[req["name"]] = new_provider(req)
        return {"ok": True}
    item = {k: from_json(v) for k, v in req["item"].items()}
    cfg = crypto_config(req)
    if op == "encrypt":
        out = encrypt_dynamodb_item(item, cfg)
    elif op == "decrypt":
        out = decrypt_dynamodb_item(item, cfg)
    else:
        raise ValueError("unknown op " + op)
    return {"ok": True, "item": {k: to_json(v) for k, v in out.items()}}


def main():
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        try:
            resp = handle(json.loads(line))
        except Exception as e:  # every failure is an answer, never the end of the driver
            resp = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        out.write(json.dumps(resp, ensure_ascii=False).encode("utf-8") + b"\n")
        out.flush()


if __name__ == "__main__":
    main()
