#!/usr/bin/python3
"""A replica reader and writer that shares no code with zk-tool: plyvel for
LevelDB, and the log_pb2 module protoc generates from replicated_log/log.proto
at build time (its directory must be on PYTHONPATH). The tests run it with
PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python, so C++ libprotobuf is not used.

  independent_replica.py read DIR    one JSON object per key, in key order
  independent_replica.py write DIR   a small replica, as Mesos would write it
"""
import json
import sys

import plyvel

from replicated_log import log_pb2

Action = log_pb2.Action
Record = log_pb2.Record


def key_for(position):
    """Mesos' leveldb.cpp encoding of a position (metadata is position -1)."""
    stored = position + 1
    return (b'%010d' % stored) if stored <= 9999999999 else (b'A%020d' % stored)


def position_of(key):
    text = key.decode('ascii')
    if len(text) == 10 and text.isdigit():
        return int(text) - 1
    if len(text) == 21 and text[0] == 'A' and text[1:].isdigit():
        return int(text[1:]) - 1
    raise ValueError('not a replica key: %r' % key)


def describe(key, value):
    record = Record.FromString(value)  # raises on missing required fields
    entry = {'key': key.decode('ascii'), 'position': position_of(key),
             'record': Record.Type.Name(record.type)}
    if record.type == Record.METADATA:
        entry['status'] = log_pb2.Metadata.Status.Name(record.metadata.status)
        entry['promised'] = record.metadata.promised
        return entry
    action = record.action
    entry.update({
        'action_position': action.position,
        'promised': action.promised,
        'performed': action.performed if action.HasField('performed') else None,
        'learned': action.learned,
        'type': Action.Type.Name(action.type) if action.HasField('type') else None,
    })
    if action.HasField('append'):
        entry['bytes_hex'] = action.append.bytes.hex()
        entry['cksum_hex'] = action.append.cksum.hex() if action.append.HasField('cksum') else None
    if action.HasField('truncate'):
        entry['to'] = action.truncate.to
    if action.HasField('nop'):
        entry['tombstone'] = action.nop.tombstone
    return entry


def read(path):
    db = plyvel.DB(path, create_if_missing=False)
    for key, value in db:
        print(json.dumps(describe(key, value), sort_keys=True))
    db.close()


def write(path):
    db = plyvel.DB(path, create_if_missing=True)
    metadata = Record(type=Record.METADATA)
    metadata.metadata.status = log_pb2.Metadata.VOTING
    metadata.metadata.promised = 3
    db.put(key_for(-1), metadata.SerializeToString(), sync=True)
    actions = [
        Action(position=0, promised=3, performed=3, learned=True, type=Action.NOP,
               nop=Action.Nop()),
        Action(position=1, promised=3, performed=3, learned=True, type=Action.APPEND,
               append=Action.Append(bytes=b'from python\x00\xff')),
        Action(position=9999999999, promised=3, performed=3, learned=True,
               type=Action.TRUNCATE, truncate=Action.Truncate(to=1)),
    ]
    for action in actions:
        record = Record(type=Record.ACTION, action=action)
        db.put(key_for(action.position), record.SerializeToString(), sync=True)
    db.close()


if __name__ == '__main__':
    {'read': read, 'write': write}[sys.argv[1]](sys.argv[2])
