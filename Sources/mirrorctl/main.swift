print("mirrorctl")
