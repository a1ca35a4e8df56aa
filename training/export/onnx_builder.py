"""A small ONNX graph builder: each call adds one node and returns the name of its output, so
graph code reads like the math it computes."""
import numpy as np
import onnx
import onnx.numpy_helper
from onnx import TensorProto, helper

OPSET = 17


class GraphBuilder:
    def __init__(self, name):
        self.name = name
        self.nodes = []
        self.inputs = []
        self.outputs = []
        self.initializers = []
        self._count = 0
        self._consts = {}

    def fresh(self, hint):
        self._count += 1
        return f"{hint}_{self._count}"

    def op(self, op_type, *inputs, name=None, n_out=1, **attrs):
        outs = [self.fresh(name or op_type) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=self.fresh("n_" + op_type), **attrs))
        return outs[0] if n_out == 1 else outs

    def const(self, value, dtype=np.float32):
        arr = np.asarray(value, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self._consts:
            name = self.fresh("const")
            self.nodes.append(helper.make_node("Constant", [], [name], value=onnx.numpy_helper.from_array(arr, name)))
            self._consts[key] = name
        return self._consts[key]

    def i64(self, *values):
        return self.const(list(values), np.int64)

    def add_input(self, name, elem_type, shape):
        self.inputs.append(helper.make_tensor_value_info(name, elem_type, shape))
        return name

    def add_output(self, source, name, elem_type, shape):
        self.nodes.append(helper.make_node("Identity", [source], [name]))
        self.outputs.append(helper.make_tensor_value_info(name, elem_type, shape))

    def add_external_initializer(self, name, elem_type, shape, location, offset, length):
        t = TensorProto()
        t.name = name
        t.data_type = elem_type
        t.dims.extend(shape)
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", location), ("offset", str(offset)), ("length", str(length))):
            e = t.external_data.add()
            e.key, e.value = k, v
        self.initializers.append(t)
        return name

    def model(self):
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.initializers)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="mamba-complete")
        m.ir_version = 8
        return m
