"""Generated protobuf code for proto/api.proto (do not edit; run ``make proto``)."""
