"""The Qt document model: state, signals, undo. QtCore/QtGui only, no widgets."""

from attnviz.model.document_model import DocumentModel, check_dimensions

__all__ = ["DocumentModel", "check_dimensions"]
