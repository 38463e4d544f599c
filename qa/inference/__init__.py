"""Running the two networks: the embedder and the span reader, on ONNX Runtime (the default) or torch.

``model_files`` finds the shipped ONNX files and checks them by hash; ``runners`` runs either backend
on word-piece arrays; ``qa.training.export_onnx`` writes the files from the torch weights.
"""
