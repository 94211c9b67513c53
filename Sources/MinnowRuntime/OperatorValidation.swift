/// The checks of every operator of a model file: argument counts, tensor indices and kinds,
/// shapes, parameters (strides, padding, groups, clamps, fixed-point multipliers), and the order
/// of writes and reads. After them the kernels cannot read or write out of bounds or trap.
enum OperatorValidation {
    static func check(_ operators: [OperatorEntry], tensors: [TensorInfo], input: Int, output: Int) throws(ModelFormatError) {
        var written: Set<Int> = [input]
        for (index, entry) in operators.enumerated() {
            var context = Context(index: index, entry: entry, tensors: tensors, written: written)
            try context.check()
            written = context.written
        }
        guard written.contains(output) else { throw .invalidHeader("no operator writes the output tensor \(output)") }
    }

    struct Context {
        let index: Int, entry: OperatorEntry, tensors: [TensorInfo]
        var written: Set<Int>
        var a: [Int] { entry.arguments.map(Int.init) }

        func fail(_ detail: String) -> ModelFormatError { .invalidOperator(index, "\(entry.code): \(detail)") }

        func tensor(_ position: Int) throws(ModelFormatError) -> TensorInfo {
            let t = a[position]
            guard tensors.indices.contains(t) else { throw fail("argument \(position) names tensor \(t), the model has \(tensors.count)") }
            return tensors[t]
        }

        /// An activation already written (the model input or an earlier operator's output).
        func activationInput(_ position: Int) throws(ModelFormatError) -> TensorInfo {
            let t = try tensor(position)
            guard t.storage == .arena, written.contains(a[position]) else { throw fail("input tensor \(a[position]) is not a value computed before") }
            return t
        }

        func constant(_ position: Int, _ types: [TensorType]) throws(ModelFormatError) -> TensorInfo {
            let t = try tensor(position)
            guard t.storage == .constant, types.contains(t.type) else { throw fail("tensor \(a[position]) must be a constant of type \(types)") }
            return t
        }

        mutating func activationOutput(_ position: Int) throws(ModelFormatError) -> TensorInfo {
            let t = try tensor(position)
            guard t.storage == .arena, !written.contains(a[position]) else { throw fail("output tensor \(a[position]) is a constant or written twice") }
            written.insert(a[position])
            return t
        }

        func clamp(_ minimum: Int, _ maximum: Int) throws(ModelFormatError) {
            guard -128 <= a[minimum], a[minimum] <= a[maximum], a[maximum] <= 127 else { throw fail("clamp [\(a[minimum]), \(a[maximum])] outside int8") }
        }

        func multiplier(_ m: Int, _ s: Int) throws(ModelFormatError) {
            guard a[m] >= 0, (-31...30).contains(a[s]) else { throw fail("fixed-point multiplier \(a[m]) * 2^(\(a[s]) - 31) out of range") }
        }

        /// Per-channel multipliers (constant int32 vectors of `channels`) and shifts (int8, or
        /// int32 in version 1 files); their values are checked after the operators.
        func channelMultipliers(_ m: Int, _ s: Int, channels: Int, model: [TensorInfo]) throws(ModelFormatError) {
            let (mt, st) = (try constant(m, [.int32]), try constant(s, [.int8, .int32]))
            guard mt.shape == [channels], st.shape == [channels] else { throw fail("multipliers and shifts must have \(channels) entries") }
        }

        mutating func check() throws(ModelFormatError) {
            if let count = entry.code.argumentCount {
                guard a.count == count else { throw fail("\(a.count) arguments, expected \(count)") }
            } else {
                guard a.count >= 2, a[1] >= 1, a.count == 2 + 4 * a[1] else { throw fail("\(a.count) arguments for \(a.count >= 2 ? a[1] : 0) inputs") }
            }
            switch entry.code {
            case .convolution: try convolution()
            case .fullyConnected: try fullyConnected()
            case .add:
                let (x, y) = (try activationInput(0), try activationInput(1))
                let out = try activationOutput(2)
                guard x.shape == out.shape, y.shape == out.shape else { throw fail("shapes \(x.shape) + \(y.shape) -> \(out.shape)") }
                try multiplier(3, 4); try multiplier(5, 6); try multiplier(7, 8); try clamp(9, 10)
            case .concatenate:
                var channels = 0
                var rest: [Int]?
                for i in 0..<a[1] {
                    let x = try activationInput(2 + 4 * i)
                    guard a[3 + 4 * i] == 0 || a[3 + 4 * i] == 1 else { throw fail("rescale flag \(a[3 + 4 * i])") }
                    try multiplier(4 + 4 * i, 5 + 4 * i)
                    guard rest == nil || rest! == Array(x.shape.dropLast()) else { throw fail("inputs of different shapes") }
                    rest = Array(x.shape.dropLast())
                    channels += x.shape.last!
                }
                let out = try activationOutput(0)
                guard Array(out.shape.dropLast()) == rest!, out.shape.last! == channels else { throw fail("output shape \(out.shape) is not the inputs' concatenation") }
            case .maxPool:
                let x = try activationInput(0)
                let out = try activationOutput(1)
                guard x.shape.count == 3, a[2...].prefix(4).allSatisfy({ $0 >= 1 }), a[6] >= 0, a[7] >= 0, a[6] < a[2], a[7] < a[3] else {
                    throw fail("pooling geometry \(a[2...])")
                }
                let (spanH, spanW) = (x.shape[0] + 2 * a[6] - a[2], x.shape[1] + 2 * a[7] - a[3])
                let (h, w) = (spanH / a[4] + 1, spanW / a[5] + 1)
                guard spanH >= 0, spanW >= 0, out.shape == [h, w, x.shape[2]] else { throw fail("output shape \(out.shape), expected [\(h), \(w), \(x.shape[2])]") }
            case .globalAveragePool:
                let x = try activationInput(0)
                let out = try activationOutput(1)
                guard x.shape.count == 3, out.shape == [x.shape[2]] else { throw fail("shapes \(x.shape) -> \(out.shape)") }
                try multiplier(2, 3)
            case .clamp:
                let x = try activationInput(0)
                let out = try activationOutput(1)
                guard x.shape == out.shape else { throw fail("shapes \(x.shape) -> \(out.shape)") }
                try clamp(2, 3)
            }
        }

        mutating func convolution() throws(ModelFormatError) {
            let x = try activationInput(0), filter = try constant(1, [.int8, .int4])
            guard x.shape.count == 3, filter.shape.count == 4 else { throw fail("input \(x.shape) and filter \(filter.shape) must be HWC and HWIO") }
            let (kh, kw, groupInputs, channels) = (filter.shape[0], filter.shape[1], filter.shape[2], filter.shape[3])
            let (strideH, strideW, padH, padW, dilationH, dilationW, groups) = (a[6], a[7], a[8], a[9], a[10], a[11], a[12])
            guard groups >= 1, groupInputs * groups == x.shape[2], channels % groups == 0 else {
                throw fail("groups \(groups) do not fit input channels \(x.shape[2]) and filter \(filter.shape)")
            }
            guard strideH >= 1, strideW >= 1, dilationH >= 1, dilationW >= 1, dilationH <= 64, dilationW <= 64, strideH <= 64, strideW <= 64,
                  (0...kh * dilationH).contains(padH), (0...kw * dilationW).contains(padW) else {
                throw fail("stride \(strideH)x\(strideW), padding \(padH)x\(padW), dilation \(dilationH)x\(dilationW)")
            }
            let spanH = x.shape[0] + 2 * padH - dilationH * (kh - 1) - 1, spanW = x.shape[1] + 2 * padW - dilationW * (kw - 1) - 1
            guard spanH >= 0, spanW >= 0 else { throw fail("the filter is larger than the padded input") }
            let expected = [spanH / strideH + 1, spanW / strideW + 1, channels]
            let bias = try constant(2, [.int32])
            guard bias.shape == [channels] else { throw fail("bias shape \(bias.shape), expected [\(channels)]") }
            try channelMultipliers(3, 4, channels: channels, model: tensors)
            let out = try activationOutput(5)
            guard out.shape == expected else { throw fail("output shape \(out.shape), expected \(expected)") }
            try clamp(13, 14)
        }

        mutating func fullyConnected() throws(ModelFormatError) {
            let x = try activationInput(0), weight = try constant(1, [.int8, .int4])
            guard weight.shape.count == 2, weight.shape[0] == x.elementCount else { throw fail("weight \(weight.shape) for \(x.elementCount) inputs") }
            let bias = try constant(2, [.int32])
            guard bias.shape == [weight.shape[1]] else { throw fail("bias shape \(bias.shape)") }
            try channelMultipliers(3, 4, channels: weight.shape[1], model: tensors)
            let out = try activationOutput(5)
            guard out.elementCount == weight.shape[1] else { throw fail("output \(out.shape) for \(weight.shape[1]) outputs") }
            try clamp(6, 7)
        }
    }
}
