"""Reading and writing .npy files with Python's standard library (the test machines have no
numpy): the tests' inputs and the outputs porta writes."""
import ast
import math
import struct

_CODES = {'<f4': 'f', '<f2': 'e', '<f8': 'd', '<i4': 'i', '<i8': 'q'}


def write_npy(path, shape, values, descr='<f4'):
    """Version 1.0, C order, the header padded to 64 bytes as numpy.save does."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ', '.join(str(d) for d in shape) + (',' if len(shape) == 1 else ''))
    header += ' ' * ((64 - (10 + len(header) + 1) % 64) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode())
        f.write(struct.pack(f'<{len(values)}{_CODES[descr]}', *values))


def read_npy(path):
    """(shape, flat list of values) of a C-order file of one of the dtypes above."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:6] != b'\x93NUMPY':
        raise ValueError(f'{path}: not a .npy file')
    if data[6] == 1:
        length, start = struct.unpack('<H', data[8:10])[0], 10
    else:
        length, start = struct.unpack('<I', data[8:12])[0], 12
    header = ast.literal_eval(data[start:start + length].decode('latin1'))
    if header['fortran_order']:
        raise ValueError(f'{path}: Fortran order')
    shape = tuple(header['shape'])
    count = math.prod(shape)
    return shape, list(struct.unpack(f'<{count}{_CODES[header["descr"]]}', data[start + length:]))
