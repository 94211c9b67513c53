import ArgumentParser
import MinnowData
import MinnowDistillation
import MinnowPruning
import MinnowQuantization
import MinnowTraining

// The library's choice types, typed on a command line or in an experiment file by their raw values.
extension TrainingConfig.OptimizerKind: ExpressibleByArgument {}
extension TrainingConfig.ScheduleKind: ExpressibleByArgument {}
extension DatasetChoice: ExpressibleByArgument {}
extension Split: ExpressibleByArgument {}
extension EvaluationSplit: ExpressibleByArgument {}
extension ProgressPrinter.Style: ExpressibleByArgument {}
extension CheckpointPolicy.Metric: ExpressibleByArgument {}
extension DistillationSettings.ResponseLoss: ExpressibleByArgument {}
extension PruningCriterion: ExpressibleByArgument {}
extension PruningScope: ExpressibleByArgument {}
extension PruningSchedule.Kind: ExpressibleByArgument {}
extension QuantizationScheme.Method: ExpressibleByArgument {}
